"""Tests of neurona.metrics."""
