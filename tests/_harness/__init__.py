"""Shared test harnesses (importable as ``_harness`` because tests/conftest.py puts tests/ on ``sys.path``).

``_harness.op_harness``: one declarative ``OpCase`` per op case and the checks every case runs
(tests/ops/test_harness_*.py); the layer harness beside it does the same for layers (tests/layers).
"""
