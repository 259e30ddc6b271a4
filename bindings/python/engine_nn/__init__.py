"""engine-nn: Python bindings for Engine, a CPU neural-network engine (fully-connected softmax classifiers with SIMD
kernels that are bit-identical to a scalar reference), through its C ABI.

    import engine_nn
    with engine_nn.Model.create("784-128-10 tanh", input_divisor=255) as model:
        model.train(x, y, epochs=10)
        p = model.predict_proba(x_test)          # (n, 10) float32 for NumPy input

    from engine_nn.sklearn import EngineClassifier   # a scikit-learn estimator (needs NumPy and scikit-learn)

Importing engine_nn needs only the standard library; the native library ships inside the wheel.
"""

from .core import (COL_MAJOR, ERROR_ARGUMENT, ERROR_DATA, ERROR_INTERNAL, OK, OPTIMIZERS, ROW_MAJOR, SCHEDULES,
                   EngineError, Model, instruction_set, library_path, sgemm, version)

__version__ = "0.5.0"

__all__ = ["EngineError", "Model", "sgemm", "version", "instruction_set", "library_path", "__version__",
           "OK", "ERROR_ARGUMENT", "ERROR_DATA", "ERROR_INTERNAL", "ROW_MAJOR", "COL_MAJOR", "OPTIMIZERS", "SCHEDULES"]
