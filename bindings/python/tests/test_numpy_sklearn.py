"""engine_nn's NumPy layer, its scikit-learn estimator, the 0.5.0 C ABI calls from Python, and the wheel installed into a
fresh virtual environment. Run: python3 -m unittest discover -s bindings/python/tests"""

import ctypes
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import engine_nn  # noqa: E402
from engine_nn import core  # noqa: E402

try:
    import numpy as np
except ImportError:  # CI installs python3-numpy; without it only the ctypes tests run
    np = None
try:
    import sklearn  # noqa: F401
except ImportError:
    sklearn = None


def blobs(n=300, d=5, k=3, seed=0):
    """k separable clusters, features on a 0..255 scale like image bytes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = rng.uniform(0, 60, size=(n, d))
    x[np.arange(n), y % d] += 150
    return x, y


class _Recorder:
    """Stands in for the loaded library and records the feature pointer each call receives."""

    def __init__(self, lib):
        self.lib, self.pointers = lib, []

    def __getattr__(self, name):
        fn = getattr(self.lib, name)
        if name not in ("engine_predict_layout", "engine_train_layout"):
            return fn

        def call(*args):
            self.pointers.append((ctypes.cast(args[1], ctypes.c_void_p).value, args[4] if name == "engine_predict_layout" else args[2]))
            return fn(*args)
        return call


@unittest.skipIf(np is None, "NumPy is not installed (CI installs python3-numpy)")
class NumpyTests(unittest.TestCase):
    def setUp(self):
        self.x, self.y = blobs()
        self.model = engine_nn.Model.create("5-16-3 tanh", input_divisor=255, seed=3)

    def tearDown(self):
        self.model.close()
        core._lib = self.real if hasattr(self, "real") else core._lib

    def record(self):
        self.real = core._library()
        core._lib = _Recorder(self.real)
        return core._lib

    def test_c_contiguous_float32_is_passed_without_a_copy(self):
        x32 = np.ascontiguousarray(self.x, dtype=np.float32)
        rec = self.record()
        self.model.train(x32, self.y, epochs=1)
        p = self.model.predict_proba(x32)
        self.assertEqual(rec.pointers, [(x32.ctypes.data, core.ROW_MAJOR)] * 2)
        self.assertEqual(p.shape, (300, 3))
        self.assertEqual(p.dtype, np.float32)

    def test_fortran_and_strided_float32_are_passed_in_place_with_the_same_bits(self):
        x32 = np.ascontiguousarray(self.x, dtype=np.float32)
        fortran = np.asfortranarray(x32)
        wide = np.zeros((300, 9), dtype=np.float32)
        wide[:, 2:7] = x32
        strided = wide[:, 2:7]
        expected = self.model.predict_proba(x32)
        rec = self.record()
        self.assertEqual(self.model.predict_proba(fortran).tobytes(), expected.tobytes())
        self.assertEqual(self.model.predict_proba(strided).tobytes(), expected.tobytes())
        self.assertEqual(rec.pointers, [(fortran.ctypes.data, core.COL_MAJOR), (strided.ctypes.data, core.ROW_MAJOR)])

    def test_other_dtypes_are_converted_once_to_the_same_values(self):
        x8 = np.clip(self.x, 0, 255).astype(np.uint8)
        expected = self.model.predict_proba(x8.astype(np.float32))
        rec = self.record()
        for x in (x8, x8.astype(np.int64), x8.astype(np.float64), x8.astype(np.float64).T.copy().T, x8.astype(np.int16)[::-1][::-1]):
            self.assertEqual(self.model.predict_proba(x).tobytes(), expected.tobytes(), x.dtype)
        self.assertTrue(all(pointer not in (x8.ctypes.data,) for pointer, _ in rec.pointers))

    def test_uint8_and_float64_training_give_the_same_bits_and_labels_of_any_integer_dtype(self):
        x8 = np.clip(self.x, 0, 255).astype(np.uint8)
        results = []
        for x, y in ((x8, self.y.astype(np.uint8)), (x8.astype(np.float64), self.y.astype(np.int64)),
                     (np.asfortranarray(x8.astype(np.float32)), self.y.astype(np.int16))):
            with engine_nn.Model.create("5-16-3 tanh", input_divisor=255, seed=3) as m:
                loss = m.train(x, y, epochs=20, batch_size=16)
                results.append(m.predict_proba(x8).tobytes())
                accuracy = (m.predict(x8) == self.y).mean()
        self.assertEqual(results[0], results[1])
        self.assertEqual(results[0], results[2])
        self.assertLess(loss, 0.3)
        self.assertGreater(accuracy, 0.95)

    def test_lists_of_numpy_scalars_and_of_numpy_rows(self):
        flat = list(self.x[:3].astype(np.float32).reshape(-1))  # np.float32 scalars, which are not Python floats
        expected = self.model.predict_proba(self.x[:3].astype(np.float32))
        self.assertEqual(np.asarray(self.model.predict_proba(flat)).tobytes(), expected.tobytes())
        rows = list(self.x[:3].astype(np.float32))  # a list of 1-D arrays: rows
        self.assertEqual(np.asarray(self.model.predict_proba(rows)).tobytes(), expected.tobytes())

    def test_bad_arrays_raise_one_clear_error(self):
        with self.assertRaisesRegex(ValueError, "features per row"):
            self.model.predict_proba(np.zeros((4, 6)))
        with self.assertRaisesRegex(ValueError, "2-D"):
            self.model.predict_proba(np.zeros((2, 5, 1)))
        with self.assertRaisesRegex(TypeError, "real numbers"):
            self.model.predict_proba(np.zeros((2, 5), dtype=np.complex64))
        with self.assertRaisesRegex(TypeError, "integers"):
            self.model.train(self.x, self.y + 0.5, epochs=1)
        with self.assertRaisesRegex(ValueError, "labels for"):
            self.model.train(self.x, self.y[:-1], epochs=1)
        with self.assertRaisesRegex(ValueError, "no rows"):
            self.model.predict_proba(np.zeros((0, 5)))
        with self.assertRaises(engine_nn.EngineError) as e:
            self.model.train(self.x, self.y + 1, epochs=1)
        self.assertEqual(e.exception.kind, "data")

    def test_bytes_weights_onnx_and_train_step(self):
        self.model.train(self.x, self.y, epochs=3)
        data = self.model.to_bytes()
        with engine_nn.Model.from_bytes(data, backend="reference") as copy:
            self.assertEqual(copy.predict_proba(self.x).tobytes(), self.model.predict_proba(self.x).tobytes())
            self.assertEqual(copy.spec, "5-16-3 tanh")  # a loaded model knows its architecture
            self.assertEqual(repr(copy), "<engine_nn.Model 5-16-3 tanh: 5 inputs, 3 classes>")
        self.assertEqual(repr(copy), "<engine_nn.Model (closed)>")
        with self.assertRaises(engine_nn.EngineError):
            engine_nn.Model.from_bytes(data[:-3])
        self.assertEqual(self.model.layers, 2)
        self.assertEqual(self.model.layer_shape(1), (16, 3))
        w1, b1 = self.model.get_weights(0)
        w2, b2 = self.model.get_weights(1)
        self.assertEqual((w1.shape, b2.shape), ((5, 16), (3,)))
        # The forward pass from the weights in float64 agrees with the engine.
        z = np.tanh(self.x / 255 @ w1 + b1) @ w2 + b2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        np.testing.assert_allclose(p / p.sum(axis=1, keepdims=True), self.model.predict_proba(self.x), atol=1e-5)
        with engine_nn.Model.create("5-16-3 tanh", input_divisor=255, seed=99) as other:
            other.set_weights(0, w1, b1)
            other.set_weights(1, w2.astype(np.float64), b2)
            self.assertEqual(other.predict_proba(self.x).tobytes(), self.model.predict_proba(self.x).tobytes())
            with self.assertRaises(engine_nn.EngineError):
                other.set_weights(1, w2[:-1], b2)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            self.model.export_onnx(path)
            self.assertGreater(os.path.getsize(path), 4 * (5 * 16 + 16 * 3))
            with engine_nn.Model.import_onnx(path) as back:  # and in again: the same bits
                self.assertEqual(back.predict_proba(self.x).tobytes(), self.model.predict_proba(self.x).tobytes())
                self.assertEqual(back.spec, "5-16-3 tanh")
            with self.assertRaises(engine_nn.EngineError):
                engine_nn.Model.import_onnx(os.path.join(d, "missing.onnx"))
        losses = [self.model.train_step(self.x[i:i + 30], self.y[i:i + 30], learning_rate=0.01, optimizer="adam")
                  for i in range(0, 300, 30) for _ in range(10)]
        self.assertLess(losses[-1], losses[0])


@unittest.skipIf(np is None or importlib.util.find_spec("torch") is None,
                 "NumPy or PyTorch is not installed (CI installs python3-torch)")
class SafetensorsTests(unittest.TestCase):
    def test_a_pytorch_mlp_comes_in_and_goes_back_out(self):
        import torch
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 7), torch.nn.ReLU(),
                                  torch.nn.Linear(7, 3))
        x, _ = blobs(seed=4)
        with tempfile.TemporaryDirectory() as d:
            pt, weights, back = (os.path.join(d, name) for name in ("mlp.pt", "mlp.safetensors", "back.safetensors"))
            torch.save(net.state_dict(), pt)
            subprocess.run([sys.executable, str(REPO / "tools" / "state_dict_to_safetensors.py"), pt, weights], check=True)
            with engine_nn.Model.import_safetensors(weights, "relu", input_divisor=255) as model:
                self.assertEqual(model.spec, "5-16-7-3 relu")
                with torch.no_grad():
                    expected = torch.softmax(net(torch.tensor(x / 255, dtype=torch.float32)), dim=1).numpy()
                self.assertLess(np.abs(model.predict_proba(x) - expected).max(), 1e-5)
                model.export_safetensors(back)  # and out again: PyTorch takes the file as its own state_dict
            with open(back, "rb") as f:  # read the way safetensors does: u64 header length, JSON header, data
                data = f.read()
            n = int.from_bytes(data[:8], "little")
            header = json.loads(data[8:8 + n])
            state = {name: torch.tensor(np.frombuffer(data[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]],
                                                      dtype="<f4").reshape(t["shape"]))
                     for name, t in header.items() if name != "__metadata__"}
            twin = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 7), torch.nn.ReLU(),
                                       torch.nn.Linear(7, 3))
            twin.load_state_dict(state)  # strict: the same names and shapes as PyTorch's own
            for name, tensor in net.state_dict().items():
                self.assertTrue(torch.equal(tensor, twin.state_dict()[name]), name)
            with self.assertRaisesRegex(engine_nn.EngineError, "softsign"):
                engine_nn.Model.import_safetensors(weights, "softsign")  # type: ignore[arg-type]
            with self.assertRaisesRegex(engine_nn.EngineError, "missing"):
                engine_nn.Model.import_safetensors(os.path.join(d, "missing.safetensors"), "relu")


class CtypesLayerTests(unittest.TestCase):
    def test_imports_and_trains_without_numpy(self):
        code = ("import sys; sys.modules['numpy'] = None\n"  # any 'import numpy' now fails
                "import engine_nn\n"
                "with engine_nn.Model.create('2-4-2 tanh', seed=1) as m:\n"
                "    m.train([0.0, 1.0, 1.0, 0.0] * 8, [0, 1] * 8, epochs=2, batch_size=4)\n"
                "    p = m.predict_proba([0.0, 1.0])\n"
                "    print(type(p).__name__, len(p), engine_nn.__version__)\n")
        env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(), ["array", "2", "0.5.0"])

    def test_rows_as_lists_are_the_flat_values(self):
        rows = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.25]]
        with engine_nn.Model.create("2-4-2 tanh", seed=1) as m:
            self.assertEqual(m.predict_proba(rows).tobytes(), m.predict_proba([v for r in rows for v in r]).tobytes())
            self.assertEqual(m.predict_proba((tuple(rows[0]),)).tobytes(), m.predict_proba(rows[0]).tobytes())
            with self.assertRaisesRegex(ValueError, "row 1 of x has 3 values, the model takes 2"):
                m.predict_proba([[0.0, 1.0], [1.0, 0.0, 2.0]])
            with self.assertRaisesRegex(ValueError, "mixes rows and single numbers"):
                m.predict_proba([[0.0, 1.0], 2.0])

    def test_copies_and_pickles_are_models_of_their_own(self):
        import copy
        x, y = [0.0, 1.0, 1.0, 0.0] * 8, [0, 1] * 8
        with engine_nn.Model.create("2-4-2 tanh", seed=1, backend="reference") as m:
            before = m.predict_proba(x).tobytes()
            for twin in (copy.deepcopy(m), copy.copy(m), pickle.loads(pickle.dumps(m))):
                with twin:
                    self.assertNotEqual(twin._handle, m._handle)
                    self.assertEqual((twin.spec, twin._backend), ("2-4-2 tanh", "reference"))
                    self.assertEqual(twin.predict_proba(x).tobytes(), before)
                    twin.train(x, y, epochs=3, batch_size=4)  # trains the copy only
                    self.assertNotEqual(twin.predict_proba(x).tobytes(), before)
                self.assertEqual(m.predict_proba(x).tobytes(), before)

    def test_version_matches_the_library(self):
        self.assertTrue(engine_nn.version().startswith(engine_nn.__version__))
        self.assertIn(engine_nn.instruction_set(), ("avx512", "avx2", "vector", "scalar"))


@unittest.skipIf(np is None or sklearn is None, "NumPy or scikit-learn is not installed (CI installs python3-sklearn)")
class SklearnTests(unittest.TestCase):
    def test_check_estimator(self):
        from sklearn.utils.estimator_checks import check_estimator
        from engine_nn.sklearn import EngineClassifier
        check_estimator(EngineClassifier())

    def test_arbitrary_labels_pickling_and_determinism(self):
        from sklearn.base import clone
        from engine_nn.sklearn import EngineClassifier
        x, y = blobs(seed=1)
        x = x / 255
        names = np.array(["cat", "dog", "emu"])[y]
        clf = EngineClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=4).fit(x, names)
        self.assertEqual(list(clf.classes_), ["cat", "dog", "emu"])
        self.assertEqual(clf.n_features_in_, 5)
        self.assertGreater(clf.score(x, names), 0.95)
        self.assertEqual(clf.predict_proba(x).shape, (300, 3))
        again = pickle.loads(pickle.dumps(clf))
        self.assertEqual(again.predict_proba(x).tobytes(), clf.predict_proba(x).tobytes())
        self.assertEqual(clone(clf).fit(x, names).predict_proba(x).tobytes(), clf.predict_proba(x).tobytes())
        negative = EngineClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=4).fit(x, y - 7)
        self.assertEqual(list(negative.classes_), [-7, -6, -5])
        self.assertEqual(negative.predict_proba(x).tobytes(), clf.predict_proba(x).tobytes())
        self.assertEqual(clf.get_params()["hidden_layer_sizes"], (8,))
        with self.assertRaisesRegex(ValueError, "activation"):
            EngineClassifier(activation="softsign").fit(x, y)

    def test_partial_fit_streams_batches_with_the_optimizer_state_carried(self):
        from engine_nn.sklearn import EngineClassifier
        x, y = blobs(seed=3)
        x = (x / 255).astype(np.float32)
        names = np.array(["cat", "dog", "emu"])[y]
        chunks = [slice(0, 100), slice(100, 200), slice(200, 300)]
        clf = EngineClassifier(hidden_layer_sizes=(8,), learning_rate=0.01, batch_size=20, random_state=6)
        first = names[chunks[0]] != "emu"  # the first chunk need not hold every class: `classes` names them
        clf.partial_fit(x[chunks[0]][first], names[chunks[0]][first], classes=["emu", "cat", "dog"])
        self.assertEqual(list(clf.classes_), ["cat", "dog", "emu"])
        for _ in range(10):
            for c in chunks:
                clf.partial_fit(x[c], names[c])
        self.assertGreater(clf.score(x, names), 0.95)

        # The same steps by hand on a Model: the same bits (one Adam state across calls, the estimator's shuffles).
        twin = EngineClassifier(hidden_layer_sizes=(8,), learning_rate=0.01, batch_size=20, random_state=6, shuffle=False)
        twin.partial_fit(x[:100], y[:100], classes=[0, 1, 2]).partial_fit(x[100:], y[100:])
        with engine_nn.Model.create("5-8-3 relu", seed=6) as model:
            for lo, hi in ((0, 100), (100, 300)):
                for start in range(lo, hi, 20):
                    model.train_step(x[start:start + 20], y[start:start + 20].astype(np.int32), learning_rate=0.01,
                                     l2=1e-4, optimizer="adam")
            self.assertEqual(model.predict_proba(x).tobytes(), twin.predict_proba(x).tobytes())

        fresh = EngineClassifier(hidden_layer_sizes=(8,), random_state=6)
        with self.assertRaisesRegex(ValueError, "classes must be given"):
            fresh.partial_fit(x, names)
        with self.assertRaisesRegex(ValueError, "'emu' is not one of the classes"):
            fresh.partial_fit(x, names, classes=["cat", "dog"])
        self.assertFalse(hasattr(fresh, "classes_"))  # a refused first call leaves it unfitted
        with self.assertRaisesRegex(ValueError, "'fox' is not one of the classes"):
            clf.partial_fit(x[:2], np.array(["cat", "fox"]))
        with self.assertRaisesRegex(ValueError, "differ from the first call"):
            clf.partial_fit(x, names, classes=["cat", "dog"])
        with self.assertRaisesRegex(ValueError, "features"):
            clf.partial_fit(x[:, :4], names)
        fitted = EngineClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=6).fit(x, names)
        self.assertEqual(list(fitted.partial_fit(x, names).classes_), ["cat", "dog", "emu"])  # continues a fit

    def test_an_mlpclassifier_comes_in_with_its_probabilities(self):
        import warnings
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        from engine_nn.sklearn import EngineClassifier, model_from_sklearn
        x, y = blobs(seed=2)
        x = x / 255
        labels = {"three classes": np.array(["cat", "dog", "emu"])[y], "two classes": np.where(y == 0, 5, -1)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for activation in ("relu", "tanh", "logistic"):
                for name, target in labels.items():
                    for hidden in ((9, 4), ()):
                        mlp = MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=40,
                                            random_state=3).fit(x, target)
                        what = f"{activation}, {name}, hidden {hidden}"
                        clf = EngineClassifier.from_sklearn(mlp, backend="reference")
                        self.assertEqual(list(clf.classes_), list(mlp.classes_), what)
                        p = clf.predict_proba(x)
                        self.assertEqual(p.shape, (300, len(mlp.classes_)), what)
                        # float32 weights and arithmetic against scikit-learn's float64: rounding apart, no more
                        self.assertLess(np.abs(p - mlp.predict_proba(x)).max(), 1e-5, what)
                        self.assertEqual(list(clf.predict(x)), list(mlp.predict(x)), what)
                        with model_from_sklearn(mlp) as model:  # the simd backend: the same bits
                            widths = [5, *hidden, len(mlp.classes_)]
                            self.assertEqual(model.spec, "-".join(map(str, widths)) + " " + clf.activation, what)
                            self.assertEqual(model.predict_proba(x.astype(np.float32)).tobytes(), p.tobytes(), what)
                        again = pickle.loads(pickle.dumps(clf))
                        self.assertEqual(again.predict_proba(x).tobytes(), p.tobytes(), what)
            imported = EngineClassifier.from_sklearn(mlp)
            self.assertEqual((imported.activation, imported.hidden_layer_sizes, imported.optimizer), ("sigmoid", (), "adam"))
            self.assertGreater(imported.set_params(epochs=30, learning_rate=0.05).fit(x, y).score(x, y), 0.95)  # refits

            with self.assertRaisesRegex(ValueError, "identity"):
                model_from_sklearn(MLPClassifier(hidden_layer_sizes=(4,), activation="identity", max_iter=5).fit(x, y))
            multilabel = np.stack([y == 0, y == 1], axis=1).astype(int)
            with self.assertRaisesRegex(ValueError, "multilabel"):
                model_from_sklearn(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(x, multilabel))
        from sklearn.exceptions import NotFittedError
        from sklearn.neural_network import MLPRegressor
        with self.assertRaises(NotFittedError):
            model_from_sklearn(MLPClassifier())
        with self.assertRaisesRegex(TypeError, "MLPClassifier"):
            model_from_sklearn(MLPRegressor())


WHEEL_CHECK = (REPO / "bindings" / "python" / "wheel_check.py").read_text()


@unittest.skipIf(np is None or sklearn is None, "NumPy or scikit-learn is not installed (CI installs python3-sklearn)")
class WheelTests(unittest.TestCase):
    def test_wheel_installs_into_a_fresh_venv_and_works_from_another_directory(self):
        if not (REPO / "out" / "native" / "libengine.so").exists():
            self.skipTest("out/native/libengine.so is not published (dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native)")
        with tempfile.TemporaryDirectory() as d:
            built = subprocess.run(["bash", str(REPO / "tools" / "package-python.sh"), os.path.join(d, "dist")],
                                   capture_output=True, text=True, env=dict(os.environ, PYTHON=sys.executable), timeout=600)
            self.assertEqual(built.returncode, 0, built.stderr)
            wheel = built.stdout.strip().splitlines()[-1]
            self.assertTrue(wheel.endswith("engine_nn-0.5.0-py3-none-linux_x86_64.whl"), wheel)
            import zipfile
            names = set(zipfile.ZipFile(wheel).namelist())
            for lib in ("libengine.so", "libengine-x86-64-v3.so", "libengine-x86-64-v4.so"):
                self.assertIn("engine_nn/" + lib, names)
            venv = os.path.join(d, "venv")
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True, timeout=300)
            python = os.path.join(venv, "bin", "python")
            installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel],
                                       capture_output=True, text=True, timeout=300)
            self.assertEqual(installed.returncode, 0, installed.stderr)
            elsewhere = os.path.join(d, "elsewhere")
            os.mkdir(elsewhere)
            env = {k: v for k, v in os.environ.items() if k not in ("ENGINE_LIB", "PYTHONPATH")}
            run = subprocess.run([python, "-c", WHEEL_CHECK], cwd=elsewhere, capture_output=True, text=True, env=env, timeout=600)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("wheel ok 0.5.0", run.stdout)
            # The dispatcher inside the wheel picks the AVX-512 build where the CPU has it.
            with open("/proc/cpuinfo") as f:
                avx512 = " avx512f" in f.read()
            self.assertEqual(run.stdout.split()[-1], "avx512" if avx512 else "avx2", run.stdout)


if __name__ == "__main__":
    unittest.main()
