"""The pieces of ``benchmarks/torch_gradient_oracle.py``, which compares every Neurona op with PyTorch's
autograd in float64: ``harness`` registers and runs the cases (layouts, the error measure, the verdicts),
``references`` holds the PyTorch reference helpers, and ``cases_ops``, ``cases_losses``, ``cases_edges`` and
``cases_keras_ops`` hold the case groups, registered in the order the entry script lists them (they share one
seeded generator).
"""
