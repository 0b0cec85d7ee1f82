"""Model selection: data splits and k-fold cross-validation.

>>> from neurona.model_selection import train_val_test_split, cross_validate
>>> (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = train_val_test_split(x, y, val=0.1, test=0.1, seed=0)
>>> result = cross_validate(build_model, x_tr, y_tr, k=5, fit_kwargs={"epochs": 10}, seed=0, stratify=True)
>>> print(result)
"""

from .cross_validation import CrossValidationResult, cross_validate
from .split import class_labels, kfold_indices, split_indices, train_val_test_split

__all__ = ["train_val_test_split", "split_indices", "kfold_indices", "class_labels", "cross_validate",
           "CrossValidationResult"]
