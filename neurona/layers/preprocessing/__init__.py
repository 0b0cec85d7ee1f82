"""Preprocessing layers: Normalization (feature standardization learned by ``adapt``)."""

from .normalization import Normalization

__all__ = ["Normalization"]
