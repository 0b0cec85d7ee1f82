"""``cross_validate``: k-fold cross-validation of a model-building function.

Each fold trains a fresh model on the other ``k - 1`` folds and scores it on
the held-out one; the spread of the ``k`` scores shows how much a result owes
to the particular split (Stone, 1974; Kohavi, 1995, recommends stratified
folds for classification).
"""

import numpy

from .. import backend
from .split import _as_array, _to, class_labels, kfold_indices


def _format(value):
    if numpy.ndim(value) == 0:
        return f"{float(value):.4f}"
    return "[" + " ".join(f"{float(v):.3f}" for v in numpy.ravel(value)) + "]"


class CrossValidationResult:
    """The per-fold scores of a cross-validation, with their mean and standard deviation.

    Attributes:
        scores: one dict per fold, ``{"loss": ..., "accuracy": ...}`` as ``evaluate(return_dict=True)``.
        histories: the ``History`` of each fold's ``fit``.
        folds: the ``(train_idx, test_idx)`` pairs used.
    """

    def __init__(self, scores, histories, folds):
        self.scores, self.histories, self.folds = list(scores), list(histories), list(folds)

    @property
    def metric_names(self):
        """The evaluated quantities, in ``evaluate``'s order (``loss`` first)."""
        return list(self.scores[0]) if self.scores else []

    def values(self, name):
        """A NumPy array of ``name``'s score in each fold (shape ``(k,)``, or ``(k, C)`` for per-class scores)."""
        if name not in self.metric_names:
            raise KeyError(f"no metric {name!r}; the scores hold {self.metric_names}")
        return numpy.asarray([fold[name] for fold in self.scores], dtype=numpy.float64)

    def _reduce(self, fn):
        out = {}
        for name in self.metric_names:
            value = fn(self.values(name), axis=0)
            out[name] = float(value) if numpy.ndim(value) == 0 else value.tolist()
        return out

    @property
    def mean(self):
        """``{metric: mean over folds}``."""
        return self._reduce(numpy.mean)

    @property
    def std(self):
        """``{metric: standard deviation over folds}`` (population form, ``ddof=0``, as ``numpy.std``)."""
        return self._reduce(numpy.std)

    def __str__(self):
        k = len(self.scores)
        n = sum(len(test) for _, test in self.folds)
        mean, std = self.mean, self.std
        rows = [["metric", "mean", "std", *(f"fold {i + 1}" for i in range(k))]]
        for name in self.metric_names:
            rows.append([name, _format(mean[name]), _format(std[name]), *(_format(s[name]) for s in self.scores)])
        widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
        lines = [f"{k}-fold cross-validation on {n} samples"]
        lines += ["  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths)))
                  for row in rows]
        return "\n".join(lines)

    def __repr__(self):
        summary = ", ".join(f"{name}={_format(value)}" for name, value in self.mean.items())
        return f"<CrossValidationResult k={len(self.scores)} mean: {summary}>"


def _check_fresh(model, previous, fold):
    """Refuse a model that is not new: same object, shared weight arrays or a shared optimizer."""
    if not (hasattr(model, "fit") and hasattr(model, "evaluate")):
        raise TypeError(f"build_fn must return a model, got {model!r} for fold {fold + 1}")
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"build_fn must return a compiled model (call model.compile(...) inside it); fold "
                         f"{fold + 1} got an uncompiled {type(model).__name__}")
    if previous is None:
        return
    problem = None
    if model is previous:
        problem = "the same model object as the previous fold"
    elif model.optimizer is previous.optimizer:
        problem = "a model sharing the previous fold's optimizer (its step count and moments)"
    elif {id(w) for w in model.weights} & {id(w) for w in previous.weights}:
        problem = "a model sharing weights with the previous fold's model"
    if problem:
        raise ValueError(f"build_fn returned {problem} for fold {fold + 1}; it must build and compile a new "
                         "model (and a new optimizer) on every call, or the folds would not be independent")


def cross_validate(build_fn, x, y, k=5, fit_kwargs=None, seed=None, stratify=False, shuffle=True):
    """k-fold cross-validation: a fresh model per fold, fitted on ``k - 1`` folds, evaluated on the last.

    Example:
        >>> def build():
        ...     model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
        ...     model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        ...     return model
        >>> result = cross_validate(build, x, labels, k=5, fit_kwargs={"epochs": 20}, seed=0, stratify=True)
        >>> print(result)                      # per-fold table with mean and std
        >>> result.mean["accuracy"], result.std["accuracy"]

    Args:
        build_fn: a function of no arguments returning a new compiled model.
        x, y: the data (arrays with the samples on the first axis).
        k: the number of folds (2 <= k <= number of samples).
        fit_kwargs: keyword arguments of ``model.fit`` (``epochs``, ``batch_size``,
            ``callbacks`` ...); ``verbose`` defaults to 0 here.
        seed: seeds the fold assignment and, when it is an int, ``neurona.seed(seed + fold)``
            is called before each ``build_fn()`` so weight initializations are reproducible
            (this resets the library-wide generator).
        stratify: keep each class's share of ``y`` in every fold.
        shuffle: assign samples to folds at random (else consecutive blocks).

    Returns:
        A ``CrossValidationResult``.
    """
    if not callable(build_fn):
        raise TypeError(f"build_fn must be a function returning a compiled model, got {build_fn!r}")
    x, y = _as_array(x, "x"), _as_array(y, "y")
    if x.ndim == 0 or len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    fit_kwargs = {"verbose": 0, **(fit_kwargs or {})}
    clash = sorted({"x", "y"} & set(fit_kwargs))
    if clash:
        raise ValueError(f"fit_kwargs must not set {clash}: cross_validate chooses each fold's data")
    folds = kfold_indices(len(x), k, shuffle=shuffle, seed=seed, labels=class_labels(y) if stratify else None)
    scores, histories, previous = [], [], None
    for fold, (train, test) in enumerate(folds):
        if isinstance(seed, (int, numpy.integer)) and not isinstance(seed, bool):
            backend.seed(int(seed) + fold)
        model = build_fn()
        _check_fresh(model, previous, fold)  # a shared layer already holds weights: the previous fold built it
        histories.append(model.fit(x[_to(x, train)], y[_to(y, train)], **fit_kwargs))
        scores.append(model.evaluate(x[_to(x, test)], y[_to(y, test)], verbose=0, return_dict=True))
        previous = model
    return CrossValidationResult(scores, histories, folds)
