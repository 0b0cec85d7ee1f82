"""Preprocessing layers: Normalization (feature standardization learned by ``adapt``) and the random image
augmentations (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast)."""

from .augmentation import RandomContrast, RandomFlip
from .geometric import RandomRotation, RandomTranslation, RandomZoom
from .normalization import Normalization

__all__ = ["Normalization", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"]
