"""Tests of neurona.losses."""
