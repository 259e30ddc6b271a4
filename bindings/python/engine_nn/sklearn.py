"""A scikit-learn classifier backed by Engine (needs NumPy and scikit-learn; engine_nn itself needs neither).

    from engine_nn.sklearn import EngineClassifier
    clf = EngineClassifier(hidden_layer_sizes=(128,), epochs=20, random_state=0).fit(X, y)
    clf.predict_proba(X_test)     # (n, len(clf.classes_)) float32

Any class labels (strings, negative integers, ...) are mapped to 0..k-1 and back. The network sees X as float32,
unscaled: scale features first (StandardScaler, or divide images by 255) as with scikit-learn's own MLPClassifier.
Pickling stores the engine's model file bytes, so an unpickled classifier predicts the same bits.

A fitted scikit-learn MLPClassifier comes in with model_from_sklearn(mlp) (an engine_nn.Model) or
EngineClassifier.from_sklearn(mlp) (a fitted estimator with the same classes_): same weights, in float32.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal, Optional, Sequence, Union

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import]  # no type information
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import]

from .core import OPTIMIZERS, ArrayLike, Backend, Model, Optimizer

ACTIVATIONS = ("relu", "tanh", "sigmoid")
# scikit-learn's hidden activations by their engine names (its "identity" has no engine counterpart).
_SKLEARN_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}


def _spec(widths: Sequence[int], activation: str) -> str:
    """Model.create's spec: the layer widths, input to output, then the hidden activation ("784-128-10 tanh")."""
    return "-".join(str(w) for w in widths) + " " + activation


def _diverged(loss: float) -> ValueError:
    return ValueError(f"training diverged (mean loss {loss}); lower learning_rate or scale the features")


def model_from_sklearn(mlp: Any, backend: Backend = "simd", threads: int = 1) -> Model:
    """An engine model with the weights of a fitted scikit-learn MLPClassifier (coefs_ and intercepts_, in float32):
    its predict_proba agrees with the MLPClassifier's to float32 rounding, its classes are mlp.classes_ in that
    order, and it takes the features the MLPClassifier took (no scaling: input_divisor 1). A binary classifier's
    single logistic output becomes a softmax over two outputs whose first is fixed at 0, the same probabilities.
    Multilabel classifiers and the "identity" hidden activation have no engine form and raise ValueError."""
    from sklearn.neural_network import MLPClassifier  # type: ignore[import]

    if not isinstance(mlp, MLPClassifier):
        raise TypeError(f"expected a fitted sklearn.neural_network.MLPClassifier, got {type(mlp).__name__}")
    check_is_fitted(mlp, "coefs_")
    if mlp.out_activation_ not in ("softmax", "logistic") or (mlp.out_activation_ == "logistic" and mlp.n_outputs_ != 1):
        raise ValueError(f"a multilabel MLPClassifier (output {mlp.out_activation_!r}, {mlp.n_outputs_} outputs) "
                         "has no engine form: the engine's output is one softmax over the classes")
    if mlp.activation not in _SKLEARN_ACTIVATIONS:
        raise ValueError(f"hidden activation {mlp.activation!r} has no engine form "
                         f"(the engine has {', '.join(_SKLEARN_ACTIVATIONS)})")
    weights = [np.asarray(w, dtype=np.float32) for w in mlp.coefs_]
    biases = [np.asarray(b, dtype=np.float32) for b in mlp.intercepts_]
    if mlp.out_activation_ == "logistic":  # p(class 1) = sigmoid(z) = softmax([0, z])[1]
        weights[-1] = np.hstack([np.zeros_like(weights[-1]), weights[-1]])
        biases[-1] = np.concatenate([np.zeros_like(biases[-1]), biases[-1]])
    widths = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    model = Model.create(_spec(widths, _SKLEARN_ACTIVATIONS[mlp.activation]), input_divisor=1.0, backend=backend,
                         threads=threads)
    try:
        for layer, (w, b) in enumerate(zip(weights, biases)):
            model.set_weights(layer, w, b)
    except Exception:
        model.close()
        raise
    return model


class EngineClassifier(ClassifierMixin, BaseEstimator):
    """Fully-connected softmax classifier trained by Engine's mini-batch optimizers (cross-entropy + L2 on weights).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Width of each hidden layer; () is softmax regression.
    activation : {"relu", "tanh", "sigmoid"}, default "relu"
    optimizer : {"adam", "adamw", "sgd", "momentum", "nesterov"}, default "adam"
    learning_rate : float, default 1e-3
    epochs : int, default 200
        Passes over the training data (scikit-learn's max_iter; there is no early stopping).
    batch_size : int, default 32
        Examples per update (the last batch of an epoch may be smaller), capped at the number of samples.
    l2 : float, default 1e-4
        L2 penalty on the weights (scikit-learn's alpha); AdamW: decoupled weight decay.
    shuffle : bool, default True
    random_state : int or None
        Seed of the initial weights and the shuffling; None draws one from NumPy's global generator.
    backend : {"simd", "reference"}, default "simd"
    threads : int, default 1
    """

    def __init__(self, hidden_layer_sizes: Sequence[int] = (100,),
                 activation: Literal["relu", "tanh", "sigmoid"] = "relu", optimizer: Optimizer = "adam",
                 learning_rate: float = 1e-3, epochs: int = 200, batch_size: int = 32, l2: float = 1e-4,
                 shuffle: bool = True, random_state: Union[int, np.random.RandomState, None] = None,
                 backend: Backend = "simd", threads: int = 1) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.shuffle = shuffle
        self.random_state = random_state
        self.backend = backend
        self.threads = threads

    @classmethod
    def from_sklearn(cls, mlp: Any, backend: Backend = "simd", threads: int = 1) -> EngineClassifier:
        """A fitted EngineClassifier with the network of a fitted scikit-learn MLPClassifier (model_from_sklearn):
        the same classes_, layer sizes and activation, and the MLPClassifier's training settings where the two
        share them, for a later fit()."""
        model = model_from_sklearn(mlp, backend=backend, threads=threads)
        solver = {"adam": "adam", "sgd": "nesterov" if mlp.nesterovs_momentum and mlp.momentum > 0 else
                  "momentum" if mlp.momentum > 0 else "sgd"}.get(mlp.solver, "adam")
        batch = 200 if mlp.batch_size == "auto" else mlp.batch_size  # "auto" is min(200, n); fit() caps it at n too
        clf = cls(hidden_layer_sizes=tuple(w.shape[1] for w in mlp.coefs_[:-1]),
                  activation=_SKLEARN_ACTIVATIONS[mlp.activation], optimizer=solver,  # type: ignore[arg-type]
                  learning_rate=float(mlp.learning_rate_init), epochs=int(mlp.max_iter), batch_size=int(batch),
                  l2=float(mlp.alpha), shuffle=bool(mlp.shuffle), backend=backend, threads=threads)
        clf._model = model
        clf.classes_ = mlp.classes_
        clf.loss_ = float(mlp.loss_)
        clf.n_features_in_ = model.inputs
        if hasattr(mlp, "feature_names_in_"):
            clf.feature_names_in_ = mlp.feature_names_in_
        return clf

    def _new_model(self, inputs: int, sizes: Sequence[int], classes: int, seed: int) -> Model:
        """A fresh network for fit() and the first partial_fit(): inputs, the hidden sizes, one output per class."""
        return Model.create(_spec([inputs, *sizes, classes], self.activation), input_divisor=1.0, seed=seed,
                            backend=self.backend, threads=int(self.threads))

    def _check_params(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(h, numbers.Integral) and h >= 1 for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        for name, value, low in (("epochs", self.epochs, 1), ("batch_size", self.batch_size, 1), ("threads", self.threads, 1)):
            if not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not (isinstance(self.learning_rate, numbers.Real) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not (isinstance(self.l2, numbers.Real) and self.l2 >= 0):
            raise ValueError(f"l2 must be a number >= 0, got {self.l2!r}")
        return sizes

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return int(np.random.randint(0, 2**31 - 1))
        if isinstance(rs, numbers.Integral):
            return int(rs) % 2**64
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        raise ValueError(f"random_state must be an int, a numpy RandomState or None, got {rs!r}")

    def fit(self, X: ArrayLike, y: ArrayLike) -> EngineClassifier:
        """Trains a new network on X (n_samples, n_features) and labels y (any hashable labels)."""
        sizes = self._check_params()
        X, y = self._validate_data(X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; got 1 class ({classes[0]!r})")
        seed = self._seed()
        model = self._new_model(X.shape[1], sizes, len(classes), seed)
        try:
            loss = model.train(X, encoded.astype(np.int32), epochs=int(self.epochs),
                               batch_size=int(min(self.batch_size, X.shape[0])), learning_rate=float(self.learning_rate),
                               l2=float(self.l2), seed=seed, shuffle=bool(self.shuffle), optimizer=self.optimizer)
        except Exception:
            model.close()
            raise
        if not np.isfinite(loss):
            model.close()
            raise _diverged(loss)
        self._model = model
        self.classes_ = classes
        self.loss_ = loss
        self._partial_seed, self._partial_fits = seed, 0  # a later partial_fit goes on from here
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: Optional[ArrayLike] = None) -> EngineClassifier:
        """One pass of mini-batch steps over X and y, continuing from the current network (a new one on the first
        call, which must name every class in `classes`, as scikit-learn's partial_fit asks). The optimizer's state
        (momentum, Adam's moments) carries over from call to call, as in scikit-learn's MLPClassifier."""
        first = not hasattr(self, "classes_")
        X, y = self._validate_data(X, y, dtype=np.float32, order="C", reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit")
            known = np.unique(classes)
            if len(known) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; got {list(known)!r}")
            sizes = self._check_params()
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(classes), known):
                raise ValueError(f"classes {list(np.unique(classes))!r} differ from the first call's {list(known)!r}")
        encoded = np.asarray(np.searchsorted(known, y))
        unknown = (encoded >= len(known)) | (known[np.minimum(encoded, len(known) - 1)] != y)
        if unknown.any():
            raise ValueError(f"label {y[unknown][0]!r} is not one of the classes {list(known)!r}")
        if first:  # only once every argument is checked: a refused first call leaves the estimator unfitted
            seed = self._seed()
            self._model = self._new_model(X.shape[1], sizes, len(known), seed)
            self.classes_, self._partial_seed, self._partial_fits = known, seed, 0
        n, batch = X.shape[0], int(min(self.batch_size, X.shape[0]))
        seed = getattr(self, "_partial_seed", 0) + getattr(self, "_partial_fits", 0)
        order = np.random.RandomState(seed % 2**32).permutation(n) if self.shuffle else np.arange(n)
        losses = []
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            losses.append(len(rows) * self._model.train_step(X[rows], encoded[rows].astype(np.int32),
                                                              learning_rate=float(self.learning_rate),
                                                              l2=float(self.l2), optimizer=self.optimizer))
        self._partial_fits = getattr(self, "_partial_fits", 0) + 1
        self.loss_ = float(sum(losses) / n)
        if not np.isfinite(self.loss_):
            raise _diverged(self.loss_)
        return self

    def predict_proba(self, X: ArrayLike) -> Any:
        """Class probabilities, (n_samples, n_classes) float32, columns in the order of classes_."""
        check_is_fitted(self, "classes_")
        X = self._validate_data(X, dtype=np.float32, order="C", reset=False)
        return self._model.predict_proba(X)

    def predict(self, X: ArrayLike) -> Any:
        """The most probable class label of each sample (the first one on ties)."""
        p = self.predict_proba(X)  # first: it raises NotFittedError on an unfitted classifier
        return self.classes_[np.argmax(p, axis=1)]

    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("_model", None)
        if model is not None:
            state["_model_bytes"] = model.to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self._model = Model.from_bytes(data, backend=self.backend, threads=int(self.threads))

    def _more_tags(self):
        return {"preserves_dtype": []}


# The name scikit-learn users look for; the same class.
MLPClassifier = EngineClassifier
