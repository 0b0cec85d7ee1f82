"""Attention layers."""

from .multi_head_attention import MultiHeadAttention

__all__ = ["MultiHeadAttention"]
