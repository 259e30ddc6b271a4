"""Python bindings for Engine through its C ABI (libengine.so, see src/Engine.Native/include/engine.h).

Pure ctypes, no dependencies. Arrays can be anything with the buffer protocol holding float32 / int32
(array.array('f'), NumPy float32 arrays, memoryviews) or plain sequences of numbers.

    import engine
    with engine.Model.create("784-128-10 tanh", input_divisor=255) as model:
        model.train(x, y, epochs=10, batch_size=32, learning_rate=0.1, l2=1e-4)
        print(model.evaluate(x_test, y_test)["accuracy"])

The library is found at $ENGINE_LIB, else at out/native/libengine.so in this repository.
"""

import array
import ctypes
import os
from pathlib import Path

__all__ = ["EngineError", "Model", "sgemm", "version", "library_path"]

OK, ERROR_ARGUMENT, ERROR_DATA, ERROR_INTERNAL = 0, 1, 2, 3
_STATUS_NAMES = {ERROR_ARGUMENT: "argument", ERROR_DATA: "data", ERROR_INTERNAL: "internal"}


class EngineError(Exception):
    """A call into the engine failed; .status is the engine.h status code, str() the engine's message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.kind = _STATUS_NAMES.get(status, "unknown")


def library_path():
    env = os.environ.get("ENGINE_LIB")
    if env:
        return env
    return str(Path(__file__).resolve().parents[3] / "out" / "native" / "libengine.so")


_EPOCH_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_double, ctypes.c_void_p)


class _TrainOptions(ctypes.Structure):
    _fields_ = [
        ("epochs", ctypes.c_int32),
        ("batch_size", ctypes.c_int32),
        ("learning_rate", ctypes.c_float),
        ("l2", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("shuffle", ctypes.c_int32),
        ("on_epoch", _EPOCH_CALLBACK),
        ("user", ctypes.c_void_p),
    ]


class _OptimizerOptions(ctypes.Structure):
    _fields_ = [
        ("optimizer", ctypes.c_int32),
        ("momentum", ctypes.c_float),
        ("beta1", ctypes.c_float),
        ("beta2", ctypes.c_float),
        ("epsilon", ctypes.c_float),
        ("schedule", ctypes.c_int32),
        ("step_epochs", ctypes.c_int32),
        ("gamma", ctypes.c_float),
        ("min_learning_rate", ctypes.c_float),
    ]


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")  # engine.h's ENGINE_SGD ... ENGINE_ADAMW, in order
SCHEDULES = ("constant", "step", "cosine")


def _load():
    path = library_path()
    if not os.path.exists(path):
        raise OSError(f"libengine.so not found at {path}: build it with "
                      "'dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native' or set ENGINE_LIB")
    lib = ctypes.CDLL(path)
    i32, i64, f32, u64 = ctypes.c_int32, ctypes.c_int64, ctypes.c_float, ctypes.c_uint64
    pf, pi, pd = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_double)
    signatures = {
        "engine_version": (ctypes.c_char_p, []),
        "engine_last_error": (ctypes.c_char_p, []),
        "engine_create": (i32, [ctypes.c_char_p, f32, u64, ctypes.c_char_p, i32, ctypes.POINTER(i64)]),
        "engine_load": (i32, [ctypes.c_char_p, ctypes.c_char_p, i32, ctypes.POINTER(i64)]),
        "engine_save": (i32, [i64, ctypes.c_char_p]),
        "engine_free": (None, [i64]),
        "engine_shape": (i32, [i64, pi, pi]),
        "engine_train": (i32, [i64, pf, pi, i64, i32, ctypes.POINTER(_TrainOptions), pd]),
        "engine_train_ex": (i32, [i64, pf, pi, i64, i32, ctypes.POINTER(_TrainOptions), ctypes.POINTER(_OptimizerOptions), pd]),
        "engine_predict": (i32, [i64, pf, i64, i32, pf, i64]),
        "engine_evaluate": (i32, [i64, pf, pi, i64, i32, pd, pd, pd, pi, i32]),
        "engine_sgemm": (i32, [i32, i32, i32, i32, i32, pf, i32, pf, i32, pf, i32, i32, i32]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


_lib = None


def _library():
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _check(status):
    if status != OK:
        raise EngineError(status, _library().engine_last_error().decode("utf-8", "replace"))


def _buffer(values, typecode, ctype):
    """A ctypes pointer to the values as a contiguous typecode array, and the object that keeps it alive."""
    if isinstance(values, array.array) and values.typecode == typecode:
        arr = values
    else:
        try:
            view = memoryview(values)
            if view.format == typecode and view.c_contiguous:
                arr = view.cast("B").cast(typecode)
            else:
                arr = array.array(typecode, view.tolist() if view.ndim > 1 else view)
        except TypeError:
            arr = array.array(typecode, values)
    if len(arr) == 0:
        return ctypes.cast(None, ctypes.POINTER(ctype)), arr, 0
    if isinstance(arr, memoryview) and arr.readonly:
        arr = array.array(typecode, arr)
    return ctypes.cast((ctype * len(arr)).from_buffer(arr), ctypes.POINTER(ctype)), arr, len(arr)


def version():
    """The engine library's version string."""
    return _library().engine_version().decode()


class Model:
    """A classifier inside the engine (network + input scaling + backend). Close it, or use `with`."""

    def __init__(self, handle):
        self._handle = handle
        inputs, classes = ctypes.c_int32(), ctypes.c_int32()
        _check(_library().engine_shape(handle, ctypes.byref(inputs), ctypes.byref(classes)))
        self.inputs, self.classes = inputs.value, classes.value

    @classmethod
    def create(cls, spec, input_divisor=1.0, seed=0, backend="simd", threads=1):
        """A new network from a spec like "784-128-10 tanh"; raw inputs are divided by input_divisor."""
        handle = ctypes.c_int64()
        _check(_library().engine_create(spec.encode(), input_divisor, seed, backend.encode(), threads, ctypes.byref(handle)))
        return cls(handle.value)

    @classmethod
    def load(cls, path, backend="simd", threads=1):
        """A model saved by save() or `engine train --out`."""
        handle = ctypes.c_int64()
        _check(_library().engine_load(os.fsencode(path), backend.encode(), threads, ctypes.byref(handle)))
        return cls(handle.value)

    def save(self, path):
        """Saves atomically (an interrupted save leaves an existing file intact)."""
        _check(_library().engine_save(self._handle, os.fsencode(path)))

    def close(self):
        if self._handle:
            _library().engine_free(self._handle)
            self._handle = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _rows(self, n_values):
        if n_values % self.inputs:
            raise ValueError(f"{n_values} feature values are not whole rows of {self.inputs}")
        return n_values // self.inputs

    def train(self, x, y, epochs=10, batch_size=32, learning_rate=0.1, l2=1e-4, seed=0, shuffle=True, on_epoch=None,
              optimizer="sgd", momentum=0.9, beta1=0.9, beta2=0.999, eps=1e-8,
              schedule="constant", lr_step=10, lr_gamma=0.1, lr_min=0.0):
        """Mini-batch training on raw features x (rows*inputs values, row-major) and labels y. Returns the last
        epoch's mean training loss. on_epoch(epoch, mean_loss) is called after every epoch.
        optimizer: sgd, momentum, nesterov, adam or adamw (PyTorch's conventions; l2 is adamw's decoupled decay);
        schedule: constant, step (x lr_gamma every lr_step epochs) or cosine (to lr_min over the epochs).
        The optimizer's state starts at zero in every call."""
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        px, keep_x, nx = _buffer(x, "f", ctypes.c_float)
        py, keep_y, ny = _buffer(y, "i", ctypes.c_int32)
        rows = self._rows(nx)
        if ny != rows:
            raise ValueError(f"{ny} labels for {rows} rows")
        callback = _EPOCH_CALLBACK(lambda e, loss, _: on_epoch(e, loss)) if on_epoch else _EPOCH_CALLBACK()
        options = _TrainOptions(epochs, batch_size, learning_rate, l2, seed, 1 if shuffle else 0, callback, None)
        rule = _OptimizerOptions(OPTIMIZERS.index(optimizer), momentum, beta1, beta2, eps,
                                 SCHEDULES.index(schedule), lr_step, lr_gamma, lr_min)
        loss = ctypes.c_double()
        _check(_library().engine_train_ex(self._handle, px, py, rows, self.inputs, ctypes.byref(options),
                                          ctypes.byref(rule), ctypes.byref(loss)))
        return loss.value

    def predict_proba(self, x):
        """Class probabilities as a flat array('f') of rows*classes values."""
        px, keep, nx = _buffer(x, "f", ctypes.c_float)
        rows = self._rows(nx)
        out = array.array("f", bytes(4 * rows * self.classes))
        pout = (ctypes.c_float * len(out)).from_buffer(out)
        _check(_library().engine_predict(self._handle, px, rows, self.inputs, pout, len(out)))
        return out

    def predict(self, x):
        """The most probable class of each row."""
        p, k = self.predict_proba(x), self.classes
        return [max(range(k), key=lambda c: p[i * k + c]) for i in range(len(p) // k)]

    def evaluate(self, x, y):
        """{"accuracy", "sensitivity": [per class], "specificity": [per class], "confusion": [[true][predicted]]}."""
        px, keep_x, nx = _buffer(x, "f", ctypes.c_float)
        py, keep_y, ny = _buffer(y, "i", ctypes.c_int32)
        rows = self._rows(nx)
        if ny != rows:
            raise ValueError(f"{ny} labels for {rows} rows")
        k = self.classes
        accuracy = ctypes.c_double()
        sens, spec = (ctypes.c_double * k)(), (ctypes.c_double * k)()
        confusion = (ctypes.c_int32 * (k * k))()
        _check(_library().engine_evaluate(self._handle, px, py, rows, self.inputs, ctypes.byref(accuracy), sens, spec, confusion, k))
        return {
            "accuracy": accuracy.value,
            "sensitivity": list(sens),
            "specificity": list(spec),
            "confusion": [list(confusion[r * k:(r + 1) * k]) for r in range(k)],
        }


def sgemm(a, b, c, m, n, k, trans_a=False, trans_b=False, lda=None, ldb=None, ldc=None, accumulate=False, threads=1):
    """C = op(A)·op(B) (+ C when accumulate) in place on c (a writable float32 buffer), row-major with leading
    dimensions defaulting to the stored row lengths. Bit-identical to the engine's scalar reference."""
    lda = lda if lda is not None else (m if trans_a else k)
    ldb = ldb if ldb is not None else (k if trans_b else n)
    ldc = ldc if ldc is not None else n
    pa, keep_a, na = _buffer(a, "f", ctypes.c_float)
    pb, keep_b, nb = _buffer(b, "f", ctypes.c_float)
    view = memoryview(c)
    if view.readonly or view.format != "f" or not view.c_contiguous:
        raise TypeError("c must be a writable, contiguous float32 buffer (array('f') or a float32 NumPy array)")

    def extent(rows, cols, ld):
        return 0 if rows == 0 or cols == 0 else (rows - 1) * ld + cols

    # The C ABI cannot see buffer lengths; Python can, so it checks them before the call.
    for name, have, need in (("a", na, extent(k if trans_a else m, m if trans_a else k, lda)),
                             ("b", nb, extent(n if trans_b else k, k if trans_b else n, ldb)),
                             ("c", view.nbytes // 4, extent(m, n, ldc))):
        if have < need:
            raise ValueError(f"{name} holds {have} floats, the {m}x{n}x{k} product needs {need}")
    pc = (ctypes.cast((ctypes.c_float * (view.nbytes // 4)).from_buffer(view.cast("B")), ctypes.POINTER(ctypes.c_float))
          if view.nbytes else ctypes.cast(None, ctypes.POINTER(ctypes.c_float)))
    _check(_library().engine_sgemm(int(trans_a), int(trans_b), m, n, k, pa, lda, pb, ldb, pc, ldc, int(accumulate), threads))
