"""The ctypes layer over Engine's C ABI (libengine.so; see engine.h). It needs nothing beyond the standard library.

Arrays can be NumPy arrays of any numeric dtype and memory layout (converted once; a C-contiguous float32 array,
a float32 array with strided rows, or a Fortran-ordered float32 array is passed without a copy), anything with
the buffer protocol holding float32 / int32 (array.array('f'), memoryviews), or plain sequences of numbers (flat,
or features as a list of rows). Pickling or copying a Model makes a model of its own (from its bytes).
NumPy is used only when the caller hands in NumPy arrays; it is never imported otherwise.

    import engine_nn
    with engine_nn.Model.create("784-128-10 tanh", input_divisor=255) as model:
        model.train(x, y, epochs=10, batch_size=32, learning_rate=0.1, l2=1e-4)
        print(model.evaluate(x_test, y_test)["accuracy"])

The library is $ENGINE_LIB if set, else the libengine.so shipped inside this package (the wheel), else
out/native/libengine.so of the repository checkout this file sits in.
"""

from __future__ import annotations

import array
import ctypes
import numbers
import os
import sys
from pathlib import Path
from typing import Any, Callable, List, Literal, Optional, Tuple, TypedDict, Union

# Input arrays: a NumPy array of any numeric dtype and layout, a float32 / int32 buffer (array.array('f'),
# memoryview) or a sequence of numbers (see the module docstring). NumPy stays optional, so these are Any.
ArrayLike = Any
# A (rows, classes) float32 NumPy array for NumPy input, else a flat array('f') of rows*classes values.
Probabilities = Any
Backend = Literal["simd", "reference"]
Optimizer = Literal["sgd", "momentum", "nesterov", "adam", "adamw"]
Schedule = Literal["constant", "step", "cosine"]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Evaluation(TypedDict):
    """What Model.evaluate returns."""

    accuracy: float
    sensitivity: List[float]  # per class
    specificity: List[float]  # per class
    confusion: List[List[int]]  # [true class][predicted class]

OK, ERROR_ARGUMENT, ERROR_DATA, ERROR_INTERNAL = 0, 1, 2, 3
_STATUS_NAMES = {ERROR_ARGUMENT: "argument", ERROR_DATA: "data", ERROR_INTERNAL: "internal"}
ROW_MAJOR, COL_MAJOR = 0, 1  # engine.h's ENGINE_ROW_MAJOR, ENGINE_COL_MAJOR


class EngineError(Exception):
    """A call into the engine failed; .status is the engine.h status code, str() the engine's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = _STATUS_NAMES.get(status, "unknown")


def library_path() -> str:
    """Where libengine.so is loaded from: $ENGINE_LIB, the package's own copy, or the repository's out/native."""
    env = os.environ.get("ENGINE_LIB")
    if env:
        return env
    here = Path(__file__).resolve().parent
    bundled = here / "libengine.so"
    if bundled.exists():
        return str(bundled)
    return str(here.parents[2] / "out" / "native" / "libengine.so")


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


class _StepOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("optimizer", ctypes.c_int32),
        ("learning_rate", ctypes.c_float),
        ("l2", ctypes.c_float),
        ("momentum", ctypes.c_float),
        ("beta1", ctypes.c_float),
        ("beta2", ctypes.c_float),
        ("epsilon", ctypes.c_float),
    ]


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")  # engine.h's ENGINE_SGD ... ENGINE_ADAMW, in order
SCHEDULES = ("constant", "step", "cosine")

_PF = ctypes.POINTER(ctypes.c_float)
_PI = ctypes.POINTER(ctypes.c_int32)


def _load():
    path = library_path()
    if not os.path.exists(path):
        raise OSError(f"libengine.so not found at {path}: install the engine-nn wheel, build it with "
                      "'dotnet publish src/Engine.Native -c Release -r linux-x64 -o out/native', or set ENGINE_LIB")
    lib = ctypes.CDLL(path)
    i32, i64, f32, u64, size = ctypes.c_int32, ctypes.c_int64, ctypes.c_float, ctypes.c_uint64, ctypes.c_size_t
    pf, pi, pd = _PF, _PI, ctypes.POINTER(ctypes.c_double)
    ph, pstr = ctypes.POINTER(i64), ctypes.c_char_p
    signatures = {
        "engine_version": (pstr, []),
        "engine_last_error": (pstr, []),
        "engine_instruction_set": (pstr, []),
        "engine_create": (i32, [pstr, f32, u64, pstr, i32, ph]),
        "engine_load": (i32, [pstr, pstr, i32, ph]),
        "engine_save": (i32, [i64, pstr]),
        "engine_free": (None, [i64]),
        "engine_shape": (i32, [i64, pi, pi]),
        "engine_train_layout": (i32, [i64, pf, i32, i64, pi, i64, i32, ctypes.POINTER(_TrainOptions),
                                      ctypes.POINTER(_OptimizerOptions), pd]),
        "engine_predict_layout": (i32, [i64, pf, i64, i32, i32, i64, pf, i64]),
        "engine_evaluate": (i32, [i64, pf, pi, i64, i32, pd, pd, pd, pi, i32]),
        "engine_sgemm": (i32, [i32, i32, i32, i32, i32, pf, i32, pf, i32, pf, i32, i32, i32]),
        "engine_save_buffer": (i32, [i64, ctypes.c_void_p, size, ctypes.POINTER(size)]),
        "engine_load_buffer": (i32, [ctypes.c_void_p, size, pstr, i32, ph]),
        "engine_export_onnx": (i32, [i64, pstr]),
        "engine_import_onnx": (i32, [pstr, pstr, i32, ph]),
        "engine_import_safetensors": (i32, [pstr, pstr, ctypes.c_float, pstr, i32, ph]),
        "engine_export_safetensors": (i32, [i64, pstr]),
        "engine_spec": (i32, [i64, ctypes.c_char_p, size, ctypes.POINTER(size)]),
        "engine_layer_count": (i32, [i64, pi]),
        "engine_layer_shape": (i32, [i64, i32, pi, pi]),
        "engine_get_weights": (i32, [i64, i32, pf, i64, pf, i64]),
        "engine_set_weights": (i32, [i64, i32, pf, i64, pf, i64]),
        "engine_train_step": (i32, [i64, pf, pi, i64, i32, ctypes.POINTER(_StepOptions), pd]),
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


def _numpy_of(value):
    """NumPy, if value is a NumPy array (NumPy is then already imported); else None. Never imports NumPy itself."""
    np = sys.modules.get("numpy")
    return np if np is not None and isinstance(value, np.ndarray) else None


def _buffer(values, typecode, ctype):
    """A ctypes pointer to the values as a contiguous typecode array, the object that keeps it alive, and its length."""
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


def _flatten_rows(rows, inputs):
    """A list of rows (each a sequence of `inputs` numbers) as one flat list, row after row."""
    flat = []
    for i, row in enumerate(rows):
        try:
            width = len(row)
        except TypeError:
            raise ValueError(f"x mixes rows and single numbers (item {i} is {type(row).__name__})") from None
        if width != inputs:
            raise ValueError(f"row {i} of x has {width} values, the model takes {inputs}")
        flat.extend(row)
    return flat


class Features:
    """Feature rows as the C ABI takes them: pointer, rows, layout and leading dimension, plus what keeps the memory
    alive. A NumPy array is converted at most once (np.ascontiguousarray(x, dtype=np.float32)); float32 arrays that
    are C-contiguous, have strided rows, or are Fortran-ordered are passed in place."""

    def __init__(self, x, inputs):
        np = _numpy_of(x)
        self.layout, self.ld = ROW_MAJOR, 0
        if np is not None:
            if x.ndim == 1:
                x = x.reshape(-1, inputs) if inputs and x.size % inputs == 0 else x
            if x.ndim != 2:
                raise ValueError(f"x must be a 2-D array (rows, {inputs}), got shape {x.shape}")
            if x.shape[1] != inputs:
                raise ValueError(f"x has {x.shape[1]} features per row, the model takes {inputs}")
            if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
                if x.dtype != np.bool_:
                    raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
            item = 4
            if x.dtype == np.float32 and x.shape[0] > 0 and x.strides[1] == item and x.strides[0] % item == 0 \
                    and x.strides[0] >= item * inputs:
                self.ld = x.strides[0] // item  # C order, or rows with a stride: read in place
            elif x.dtype == np.float32 and x.shape[0] > 0 and x.strides[0] == item and x.strides[1] % item == 0 \
                    and x.strides[1] >= item * x.shape[0]:
                self.layout, self.ld = COL_MAJOR, x.strides[1] // item  # Fortran order: the engine reads columns
            else:
                x = np.ascontiguousarray(x, dtype=np.float32)  # the one conversion
                self.ld = inputs
            self.array = x
            self.rows = x.shape[0]
            self.pointer = ctypes.cast(ctypes.c_void_p(x.ctypes.data), _PF)
        else:
            if isinstance(x, (list, tuple)) and x and not isinstance(x[0], numbers.Number):  # NumPy scalars are Numbers
                x = _flatten_rows(x, inputs)
            self.pointer, self.array, n = _buffer(x, "f", ctypes.c_float)
            if n % inputs:
                raise ValueError(f"{n} feature values are not whole rows of {inputs}")
            self.rows = n // inputs
        if self.rows == 0:
            raise ValueError("x has no rows")
        self.inputs = inputs

    def packed(self):
        """These rows tightly packed row-major (for calls that take no layout): self, or one NumPy copy."""
        if self.layout == ROW_MAJOR and self.ld in (0, self.inputs):
            return self
        return Features(_numpy_of(self.array).ascontiguousarray(self.array), self.inputs)


def _labels(y, rows):
    """y as int32: a pointer and the object that keeps it alive. NumPy labels may be any integer dtype."""
    np = _numpy_of(y)
    if np is not None:
        y = np.asarray(y).reshape(-1)
        if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
            if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                pass  # whole numbers stored as floats are labels too
            else:
                raise TypeError(f"labels must be integers 0..classes-1, got dtype {y.dtype}")
        if y.size and (y.min() < -2**31 or y.max() >= 2**31):
            raise ValueError("labels must be integers 0..classes-1")
        y = np.ascontiguousarray(y, dtype=np.int32)
        n, pointer, keep = y.size, ctypes.cast(ctypes.c_void_p(y.ctypes.data), _PI), y
    else:
        pointer, keep, n = _buffer(y, "i", ctypes.c_int32)
    if n != rows:
        raise ValueError(f"{n} labels for {rows} rows")
    return pointer, keep


def version() -> str:
    """The engine library's version string."""
    return _library().engine_version().decode()


def instruction_set() -> str:
    """The instruction-set path new simd models use: avx512, avx2, vector or scalar."""
    return _library().engine_instruction_set().decode()


class Model:
    """A classifier inside the engine (network + input scaling + backend). Close it, or use `with`."""

    def __init__(self, handle: int, backend: Backend = "simd", threads: int = 1) -> None:
        self._handle = handle
        self._backend, self._threads = backend, threads
        inputs, classes = ctypes.c_int32(), ctypes.c_int32()
        _check(_library().engine_shape(handle, ctypes.byref(inputs), ctypes.byref(classes)))
        self.inputs, self.classes = inputs.value, classes.value

    @classmethod
    def _opened(cls, open_call: Callable[[Any], int], backend: Backend, threads: int) -> Model:
        """A Model around the handle that an engine_create / _load / _import call writes to its last argument."""
        handle = ctypes.c_int64()
        _check(open_call(ctypes.byref(handle)))
        return cls(handle.value, backend, threads)

    @classmethod
    def create(cls, spec: str, input_divisor: float = 1.0, seed: int = 0, backend: Backend = "simd",
               threads: int = 1) -> Model:
        """A new network from a spec like "784-128-10 tanh"; raw inputs are divided by input_divisor."""
        return cls._opened(lambda out: _library().engine_create(spec.encode(), input_divisor, seed, backend.encode(),
                                                                threads, out),
                           backend, threads)

    @classmethod
    def load(cls, path: PathLike, backend: Backend = "simd", threads: int = 1) -> Model:
        """A model saved by save() or `engine train --out`."""
        return cls._opened(lambda out: _library().engine_load(os.fsencode(path), backend.encode(), threads, out),
                           backend, threads)

    @classmethod
    def import_onnx(cls, path: PathLike, backend: Backend = "simd", threads: int = 1) -> Model:
        """A model from an ONNX file (torch.onnx.export's Gemm MLPs, Keras/tf2onnx MatMul + Add, export_onnx())."""
        return cls._opened(lambda out: _library().engine_import_onnx(os.fsencode(path), backend.encode(), threads,
                                                                     out),
                           backend, threads)

    @classmethod
    def import_safetensors(cls, path: PathLike, activation: Literal["tanh", "relu", "sigmoid"],
                           input_divisor: float = 1.0, backend: Backend = "simd", threads: int = 1) -> Model:
        """A model from a safetensors file of PyTorch Linear weights (0.weight, 0.bias, 2.weight, ...: an
        nn.Sequential's state_dict; tools/state_dict_to_safetensors.py writes one). The file holds no activation and
        no input scaling, so they are given."""
        return cls._opened(lambda out: _library().engine_import_safetensors(os.fsencode(path), activation.encode(),
                                                                            input_divisor, backend.encode(), threads, out),
                           backend, threads)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], backend: Backend = "simd", threads: int = 1) -> Model:
        """A model from the bytes of a model file (to_bytes(), save())."""
        data = bytes(data)
        return cls._opened(lambda out: _library().engine_load_buffer(data, len(data), backend.encode(), threads, out),
                           backend, threads)

    def to_bytes(self) -> bytes:
        """The model file's bytes (what save() writes)."""
        size = ctypes.c_size_t()
        _check(_library().engine_save_buffer(self._handle, None, 0, ctypes.byref(size)))
        buffer = ctypes.create_string_buffer(size.value)
        _check(_library().engine_save_buffer(self._handle, buffer, size.value, ctypes.byref(size)))
        return buffer.raw[:size.value]

    def save(self, path: PathLike) -> None:
        """Saves atomically (an interrupted save leaves an existing file intact)."""
        _check(_library().engine_save(self._handle, os.fsencode(path)))

    def export_onnx(self, path: PathLike) -> None:
        """Writes a standard ONNX model (input "input" of raw features, output "probabilities")."""
        _check(_library().engine_export_onnx(self._handle, os.fsencode(path)))

    def export_safetensors(self, path: PathLike) -> None:
        """Writes the weights as safetensors with nn.Sequential(Linear, activation, ...)'s names and layout, so PyTorch's
        load_state_dict takes them; the activation and the input scaling are not in the file."""
        _check(_library().engine_export_safetensors(self._handle, os.fsencode(path)))

    @property
    def spec(self) -> str:
        """The architecture as create()'s spec, e.g. "784-128-10 tanh" (for loaded and imported models too)."""
        size = ctypes.c_size_t()
        _check(_library().engine_spec(self._handle, None, 0, ctypes.byref(size)))
        buffer = ctypes.create_string_buffer(size.value)
        _check(_library().engine_spec(self._handle, buffer, size.value, ctypes.byref(size)))
        return buffer.value.decode()

    def __repr__(self) -> str:
        if not getattr(self, "_handle", 0):
            return "<engine_nn.Model (closed)>"
        return f"<engine_nn.Model {self.spec}: {self.inputs} inputs, {self.classes} classes>"

    @property
    def layers(self) -> int:
        """Number of dense layers."""
        n = ctypes.c_int32()
        _check(_library().engine_layer_count(self._handle, ctypes.byref(n)))
        return n.value

    def layer_shape(self, layer: int) -> Tuple[int, int]:
        """(fan_in, fan_out) of layer `layer` (0-based)."""
        fan_in, fan_out = ctypes.c_int32(), ctypes.c_int32()
        _check(_library().engine_layer_shape(self._handle, layer, ctypes.byref(fan_in), ctypes.byref(fan_out)))
        return fan_in.value, fan_out.value

    def get_weights(self, layer: int) -> Tuple[Any, Any]:
        """(W, b) of layer `layer`: W flat row-major fan_in x fan_out (z = x W + b), b fan_out values, as array('f')
        (NumPy arrays shaped (fan_in, fan_out) and (fan_out,) when NumPy is imported)."""
        fan_in, fan_out = self.layer_shape(layer)
        w, b = array.array("f", bytes(4 * fan_in * fan_out)), array.array("f", bytes(4 * fan_out))
        pw = ctypes.cast((ctypes.c_float * len(w)).from_buffer(w), _PF)
        pb = ctypes.cast((ctypes.c_float * len(b)).from_buffer(b), _PF)
        _check(_library().engine_get_weights(self._handle, layer, pw, len(w), pb, len(b)))
        np = sys.modules.get("numpy")
        if np is not None:
            return np.frombuffer(w, dtype=np.float32).reshape(fan_in, fan_out).copy(), np.frombuffer(b, dtype=np.float32).copy()
        return w, b

    def set_weights(self, layer: int, weights: ArrayLike, bias: ArrayLike) -> None:
        """Replaces layer `layer`'s weights (fan_in x fan_out values, row-major) and bias (fan_out values)."""
        pw, keep_w, nw = _buffer(_c_float32(weights), "f", ctypes.c_float)
        pb, keep_b, nb = _buffer(_c_float32(bias), "f", ctypes.c_float)
        _check(_library().engine_set_weights(self._handle, layer, pw, nw, pb, nb))

    def close(self) -> None:
        if getattr(self, "_handle", 0):
            _library().engine_free(self._handle)
            self._handle = 0

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickling, copy.copy and copy.deepcopy carry the model file's bytes: a copy is a model of its own (a new
        handle with the same backend and threads), never one engine model under two Python objects."""
        return Model.from_bytes, (self.to_bytes(), self._backend, self._threads)

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def train(self, x: ArrayLike, y: ArrayLike, epochs: int = 10, batch_size: int = 32, learning_rate: float = 0.1,
              l2: float = 1e-4, seed: int = 0, shuffle: bool = True,
              on_epoch: Optional[Callable[[int, float], object]] = None, optimizer: Optimizer = "sgd",
              momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
              schedule: Schedule = "constant", lr_step: int = 10, lr_gamma: float = 0.1, lr_min: float = 0.0) -> float:
        """Mini-batch training on raw features x (rows x inputs) and labels y (0..classes-1). Returns the last
        epoch's mean training loss. on_epoch(epoch, mean_loss) is called after every epoch.
        optimizer: sgd, momentum, nesterov, adam or adamw (PyTorch's conventions; l2 is adamw's decoupled decay);
        schedule: constant, step (x lr_gamma every lr_step epochs) or cosine (to lr_min over the epochs).
        The optimizer's state starts at zero in every call."""
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        f = Features(x, self.inputs)
        py, keep_y = _labels(y, f.rows)
        callback = _EPOCH_CALLBACK(0)  # NULL: no callback
        if on_epoch is not None:
            report: Callable[[int, float], object] = on_epoch
            callback = _EPOCH_CALLBACK(lambda e, loss, _: report(e, loss))
        options = _TrainOptions(epochs, batch_size, learning_rate, l2, seed, 1 if shuffle else 0, callback, None)
        rule = _OptimizerOptions(OPTIMIZERS.index(optimizer), momentum, beta1, beta2, eps,
                                 SCHEDULES.index(schedule), lr_step, lr_gamma, lr_min)
        loss = ctypes.c_double()
        _check(_library().engine_train_layout(self._handle, f.pointer, f.layout, f.ld, py, f.rows, self.inputs,
                                              ctypes.byref(options), ctypes.byref(rule), ctypes.byref(loss)))
        return loss.value

    def train_step(self, x: ArrayLike, y: ArrayLike, learning_rate: float = 0.1, l2: float = 1e-4,
                   optimizer: Optimizer = "sgd", momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
                   eps: float = 1e-8) -> float:
        """One optimizer step on one batch; returns the batch's mean loss before the update. The optimizer's state
        carries over between steps while the optimizer and its settings stay the same."""
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        f = Features(x, self.inputs).packed()
        py, keep_y = _labels(y, f.rows)
        options = _StepOptions(ctypes.sizeof(_StepOptions), OPTIMIZERS.index(optimizer), learning_rate, l2, momentum,
                               beta1, beta2, eps)
        loss = ctypes.c_double()
        _check(_library().engine_train_step(self._handle, f.pointer, py, f.rows, self.inputs, ctypes.byref(options),
                                            ctypes.byref(loss)))
        return loss.value

    def predict_proba(self, x: ArrayLike) -> Probabilities:
        """Class probabilities: a (rows, classes) float32 NumPy array for NumPy input, else a flat array('f') of
        rows*classes values."""
        f = Features(x, self.inputs)
        np = _numpy_of(f.array)
        if np is not None:
            out = np.empty((f.rows, self.classes), dtype=np.float32)
            pout = ctypes.cast(ctypes.c_void_p(out.ctypes.data), _PF)
        else:
            out = array.array("f", bytes(4 * f.rows * self.classes))
            pout = ctypes.cast((ctypes.c_float * len(out)).from_buffer(out), _PF)
        _check(_library().engine_predict_layout(self._handle, f.pointer, f.rows, self.inputs, f.layout, f.ld, pout,
                                                f.rows * self.classes))
        return out

    def predict(self, x: ArrayLike) -> Any:
        """The most probable class of each row (a NumPy int64 array for NumPy input, else a list)."""
        p, k = self.predict_proba(x), self.classes
        np = _numpy_of(p)
        if np is not None:
            return p.argmax(axis=1)
        return [max(range(k), key=lambda c: p[i * k + c]) for i in range(len(p) // k)]

    def evaluate(self, x: ArrayLike, y: ArrayLike) -> Evaluation:
        """{"accuracy", "sensitivity": [per class], "specificity": [per class], "confusion": [[true][predicted]]}."""
        f = Features(x, self.inputs).packed()
        py, keep_y = _labels(y, f.rows)
        k = self.classes
        accuracy = ctypes.c_double()
        sens, spec = (ctypes.c_double * k)(), (ctypes.c_double * k)()
        confusion = (ctypes.c_int32 * (k * k))()
        _check(_library().engine_evaluate(self._handle, f.pointer, py, f.rows, self.inputs, ctypes.byref(accuracy), sens,
                                          spec, confusion, k))
        return {
            "accuracy": accuracy.value,
            "sensitivity": list(sens),
            "specificity": list(spec),
            "confusion": [list(confusion[r * k:(r + 1) * k]) for r in range(k)],
        }


def _c_float32(values):
    """NumPy input as a C-contiguous float32 array (other input unchanged)."""
    np = _numpy_of(values)
    return np.ascontiguousarray(values, dtype=np.float32).reshape(-1) if np is not None else values


def sgemm(a: ArrayLike, b: ArrayLike, c: Any, m: int, n: int, k: int, trans_a: bool = False, trans_b: bool = False,
          lda: Optional[int] = None, ldb: Optional[int] = None, ldc: Optional[int] = None, accumulate: bool = False,
          threads: int = 1) -> None:
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
          if view.nbytes else ctypes.POINTER(ctypes.c_float)())
    _check(_library().engine_sgemm(int(trans_a), int(trans_b), m, n, k, pa, lda, pb, ldb, pc, ldc, int(accumulate), threads))
