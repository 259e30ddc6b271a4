"""The public API's type hints: complete, shipped (py.typed), and what mypy checks a caller's code against.
Run: python3 -m unittest discover -s bindings/python/tests"""

import importlib.util
import inspect
import os
import re
import subprocess
import sys
import tempfile
import typing
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import engine_nn  # noqa: E402


def public_functions():
    """Every public function and method a caller reaches: the module's functions, Model's and the estimator's."""
    found = [engine_nn.version, engine_nn.instruction_set, engine_nn.library_path, engine_nn.sgemm,
             engine_nn.EngineError.__init__]
    classes = [engine_nn.Model]
    if importlib.util.find_spec("sklearn") is not None:
        from engine_nn.sklearn import EngineClassifier, model_from_sklearn
        classes.append(EngineClassifier)
        found.append(model_from_sklearn)
    for cls in classes:
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in ("__init__", "__enter__", "__exit__"):
                continue
            if isinstance(member, (classmethod, staticmethod)):
                member = member.__func__
            if isinstance(member, property):
                member = member.fget
            if inspect.isfunction(member):
                found.append(member)
    return found


class TypeHints(unittest.TestCase):
    def test_every_public_function_has_complete_hints_that_resolve(self):
        functions = public_functions()
        self.assertGreater(len(functions), 20)
        for f in functions:
            signature = inspect.signature(f)
            for name, parameter in signature.parameters.items():
                if name not in ("self", "cls"):
                    self.assertIsNot(parameter.annotation, inspect.Parameter.empty, f"{f.__qualname__}({name})")
            self.assertIsNot(signature.return_annotation, inspect.Signature.empty, f"{f.__qualname__} return")
            typing.get_type_hints(f)  # every hint names something that exists (the module defers them as strings)

    def test_the_package_says_it_is_typed(self):
        self.assertTrue((Path(engine_nn.__file__).parent / "py.typed").is_file())

    @unittest.skipUnless(importlib.util.find_spec("mypy") is not None, "mypy is not installed (Debian: python3-mypy)")
    def test_mypy_accepts_right_calls_and_flags_wrong_ones(self):
        right = """
import engine_nn
with engine_nn.Model.create("4-3 tanh", input_divisor=255.0, backend="reference") as m:
    loss: float = m.train([[0.0] * 4], [0], epochs=1, optimizer="adamw", schedule="cosine", on_epoch=print)
    accuracy: float = m.evaluate([[0.0] * 4], [0])["accuracy"]
    fan_in, fan_out = m.layer_shape(0)
    total: int = fan_in * fan_out + m.layers
    data: bytes = m.to_bytes()
"""
        wrong = """
import engine_nn
m = engine_nn.Model.create("4-3 tanh")
m.train([[0.0] * 4], [0], epochs="ten")
m.train([[0.0] * 4], [0], optimizer="adagrad")
name: int = engine_nn.version()
m.evaluate([[0.0] * 4], [0])["acuracy"]
engine_nn.Model.load("m.model", backend="gpu")
"""
        self.assertEqual(self.mypy(right), {})
        flagged = self.mypy(wrong)
        self.assertEqual(sorted(flagged), [3, 4, 5, 6, 7], flagged)  # every call after the create

    @staticmethod
    def mypy(program):
        """{line: messages} of mypy's errors on the program (engine_nn from this checkout)."""
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "caller.py")
            with open(path, "w") as f:
                f.write(program.lstrip("\n"))
            env = dict(os.environ, MYPYPATH=str(REPO / "bindings" / "python"))
            run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", os.path.join(work, "cache"),
                                  "--no-error-summary", "--hide-error-context", path],
                                 capture_output=True, text=True, env=env)
            errors = {}
            for line in run.stdout.splitlines():
                match = re.match(r".*caller\.py:(\d+): error: (.*)", line)
                if match:
                    errors.setdefault(int(match.group(1)), []).append(match.group(2))
            if run.returncode not in (0, 1) or (run.returncode == 1 and not errors):
                raise AssertionError(f"mypy failed to run: {run.stdout}{run.stderr}")
            return errors


if __name__ == "__main__":
    unittest.main()
