"""Tests of the Python bindings through libengine.so. Run: python3 -m unittest discover -s bindings/python/tests"""

import array
import gzip
import os
import struct
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import engine_nn  # noqa: E402


def read_idx(path):
    """(values as array('B'), dims) of an IDX file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    assert zero == 0 and kind == 0x08, path
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return array.array("B", data[4 + 4 * rank:]), dims


def bundled(split):
    images, dims = read_idx(REPO / "data" / "mnist-10k" / f"{split}-images-idx3-ubyte.gz")
    labels, _ = read_idx(REPO / "data" / "mnist-10k" / f"{split}-labels-idx1-ubyte.gz")
    return array.array("f", images), array.array("i", labels), dims[0]


class ErrorTests(unittest.TestCase):
    def test_version(self):
        self.assertRegex(engine_nn.version(), r"^\d+\.\d+\.\d+")

    def test_bad_spec_raises_with_the_engines_message(self):
        with self.assertRaises(engine_nn.EngineError) as e:
            engine_nn.Model.create("784-x-10 tanh")
        self.assertEqual(e.exception.status, engine_nn.ERROR_ARGUMENT)
        self.assertIn("'x' is not a layer width", str(e.exception))

    def test_missing_file_is_a_data_error(self):
        with self.assertRaises(engine_nn.EngineError) as e:
            engine_nn.Model.load("/nonexistent/model.bin")
        self.assertEqual(e.exception.kind, "data")
        self.assertIn("/nonexistent/model.bin", str(e.exception))

    def test_label_out_of_range(self):
        with engine_nn.Model.create("2-3-2 tanh") as m:
            with self.assertRaises(engine_nn.EngineError) as e:
                m.train([0.0, 1.0, 1.0, 0.0], [0, 2], epochs=1, batch_size=2)
            self.assertEqual(e.exception.status, engine_nn.ERROR_DATA)

    def test_rows_must_be_whole(self):
        with engine_nn.Model.create("3-4-2 tanh") as m:
            with self.assertRaises(ValueError):
                m.predict_proba([1.0, 2.0])

    def test_closed_model_is_rejected(self):
        m = engine_nn.Model.create("2-3-2 tanh")
        handle = m._handle
        m.close()
        m._handle = handle  # use after free, as a careless caller would
        with self.assertRaises(engine_nn.EngineError) as e:
            m.predict_proba([0.0, 0.0])
        self.assertEqual(e.exception.status, engine_nn.ERROR_ARGUMENT)
        m._handle = 0

    def test_sgemm_checks_buffer_lengths(self):
        c = array.array("f", [0.0] * 3)
        with self.assertRaises(ValueError):
            engine_nn.sgemm([1.0] * 4, [1.0] * 4, c, 2, 2, 2)


class TrainingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.x, cls.y, cls.n = bundled("train")
        cls.x_test, cls.y_test, cls.n_test = bundled("t10k")

    def test_trains_the_write_ups_network_on_the_bundled_digits(self):
        losses = []
        with engine_nn.Model.create("784-64-10 tanh", input_divisor=255, seed=1, threads=2) as m:
            last = m.train(self.x, self.y, epochs=3, batch_size=32, learning_rate=0.1, l2=1e-4,
                           on_epoch=lambda e, loss: losses.append((e, loss)))
            result = m.evaluate(self.x_test, self.y_test)
        self.assertEqual([e for e, _ in losses], [1, 2, 3])
        self.assertEqual(losses[-1][1], last)
        self.assertLess(losses[-1][1], losses[0][1])
        self.assertGreater(result["accuracy"], 0.90)
        self.assertEqual(sum(map(sum, result["confusion"])), self.n_test)
        for s, p in zip(result["sensitivity"], result["specificity"]):
            self.assertTrue(0 <= s <= 1 and 0 <= p <= 1)

    def test_simd_and_reference_give_the_same_bits_and_save_load_round_trips(self):
        x, y = self.x[:784 * 500], self.y[:500]
        probabilities = []
        for backend in ("simd", "reference"):
            with engine_nn.Model.create("784-16-10 relu", input_divisor=255, seed=4, backend=backend) as m:
                m.train(x, y, epochs=2, batch_size=25)
                probabilities.append(m.predict_proba(self.x_test[:784 * 100]).tobytes())
                if backend == "simd":
                    with tempfile.TemporaryDirectory() as d:
                        path = os.path.join(d, "m.bin")
                        m.save(path)
                        with engine_nn.Model.load(path) as loaded:
                            self.assertEqual(loaded.predict_proba(self.x_test[:784 * 100]).tobytes(), probabilities[0])
        self.assertEqual(probabilities[0], probabilities[1])

    def test_adam_with_a_cosine_schedule_learns_and_is_bit_identical_across_backends(self):
        x, y = self.x[:784 * 2000], self.y[:2000]
        probabilities = []
        for backend in ("simd", "reference"):
            with engine_nn.Model.create("784-32-10 relu", input_divisor=255, seed=2, backend=backend) as m:
                m.train(x, y, epochs=3, batch_size=32, learning_rate=0.002, optimizer="adam", schedule="cosine", lr_min=1e-4)
                probabilities.append(m.predict_proba(self.x_test[:784 * 200]).tobytes())
                if backend == "simd":
                    self.assertGreater(m.evaluate(self.x_test, self.y_test)["accuracy"], 0.85)
        self.assertEqual(probabilities[0], probabilities[1])

    def test_unknown_optimizer_or_bad_setting_raises(self):
        with engine_nn.Model.create("4-3-2 tanh") as m:
            with self.assertRaises(ValueError):
                m.train([0.0] * 8, [0, 1], optimizer="rmsprop")
            with self.assertRaises(engine_nn.EngineError) as e:
                m.train([0.0] * 8, [0, 1], optimizer="adam", beta2=1.0)
            self.assertIn("beta2", str(e.exception))

    def test_predict_matches_argmax_of_probabilities(self):
        with engine_nn.Model.create("784-8-10 tanh", input_divisor=255) as m:
            p = m.predict_proba(self.x_test[:784 * 20])
            classes = m.predict(self.x_test[:784 * 20])
        for i, c in enumerate(classes):
            row = p[i * 10:(i + 1) * 10]
            self.assertEqual(row[c], max(row))
            self.assertAlmostEqual(sum(row), 1.0, places=5)


class SgemmTests(unittest.TestCase):
    def test_matches_a_double_precision_product_and_is_thread_count_invariant(self):
        import random
        rng = random.Random(3)
        for m, n, k, ta, tb in [(5, 7, 3, False, False), (33, 10, 128, True, False), (64, 65, 300, False, True), (17, 19, 23, True, True)]:
            a = array.array("f", [rng.uniform(-1, 1) for _ in range(m * k)])
            b = array.array("f", [rng.uniform(-1, 1) for _ in range(k * n)])
            results = []
            for threads in (1, 2):
                c = array.array("f", [0.0] * (m * n))
                engine_nn.sgemm(a, b, c, m, n, k, trans_a=ta, trans_b=tb, threads=threads)
                results.append(c.tobytes())
            self.assertEqual(results[0], results[1])
            c = array.array("f", results[0])
            for i in range(m):
                for j in range(n):
                    exact = sum((a[p * m + i] if ta else a[i * k + p]) * (b[j * k + p] if tb else b[p * n + j]) for p in range(k))
                    self.assertAlmostEqual(c[i * n + j], exact, delta=1e-4 * k)

    def test_numpy_arrays_work_in_place(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("NumPy is not installed (CI installs python3-numpy)")
        rng = np.random.default_rng(0)
        a = rng.standard_normal((40, 30), dtype=np.float32)
        b = rng.standard_normal((30, 20), dtype=np.float32)
        c = np.ones((40, 20), dtype=np.float32)
        engine_nn.sgemm(a, b, c, 40, 20, 30, accumulate=True)
        np.testing.assert_allclose(c, 1 + a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-4)


class ConformanceTests(unittest.TestCase):
    def test_golden_gemm_vectors_are_bit_identical_through_the_c_abi(self):
        try:
            import numpy  # noqa: F401
        except ImportError:
            self.skipTest("NumPy is not installed (CI installs python3-numpy)")
        import check_conformance
        self.assertEqual(check_conformance.main(str(REPO / "conformance" / "v2")), 0)


if __name__ == "__main__":
    unittest.main()
