"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, InstanceNormalization."""

from .batch_normalization import BatchNormalization
from .group_normalization import GroupNormalization
from .instance_normalization import InstanceNormalization
from .layer_normalization import LayerNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "InstanceNormalization", "LayerNormalization"]
