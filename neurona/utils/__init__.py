"""Utilities with the names of ``keras.utils``: label encoding and array normalization."""

from .data_utils import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
