"""Attention layers."""

from .attention import Attention
from .multi_head_attention import MultiHeadAttention

__all__ = ["Attention", "MultiHeadAttention"]
