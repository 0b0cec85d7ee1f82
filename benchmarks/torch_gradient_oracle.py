"""PyTorch's autograd as an oracle for every Neurona op: forward values and gradients in float64.

Each case pairs a Neurona expression with the matching PyTorch one, both run on
the same seeded float64 inputs; every op of ``neurona.ops.__all__``, the Tensor
operators and methods and the per-sample losses of ``neurona.losses`` are
covered. Per case and input layout one line reports

- ``fwd``: the forward error, ``max_i |n_i - t_i| / max(|t_i|, 1e-6 max_j |t_j|)``
  (entries below 1e-6 of the largest reference value are measured against that
  floor, so rounding noise around exact zeros does not count; non-finite
  entries must be equal: the same infinity, NaN against NaN);
- ``grad``: the same error for the gradient of every input, the upstream
  gradient being seeded normals of the output's shape;
- ``double``: OK when a second ``backward`` through the retained graph gives
  exactly twice the first gradient (as PyTorch does: it sums a leaf's
  contributions before accumulating them; within 1e-14 where PyTorch itself
  is not exact) and neither the inputs, the upstream gradient nor the output
  were modified.

Layouts: ``contig`` (C order), ``strided`` (every other element of the last
axis of a NaN-filled buffer, the upstream gradient too) and ``transposed``
(Fortran order; 1-D arrays reversed twice). Edge values: zeros, ties, kinks,
clip bounds, negative and zero bases of pow, logits of +-1000.

Verdicts: PASS when both errors are at most the case's tolerance (1e-10 in
float64 unless stated; the same bound at kinks and ties, where a different
subgradient convention is an O(1) error, so agreement there is exact up to
rounding); CONVENTION when Neurona documents a convention that differs from
PyTorch's (the worst element of both and Neurona's docstring claim printed);
FAIL otherwise; ERROR when the PyTorch reference itself raised (a bug here).
The exit status is 1 if any case FAILs or ERRORs.

torch is not a dependency of Neurona: only this script and its ``oracle`` package (benchmarks/oracle/:
the harness, the references and the case groups) import it
(``pip install torch``, the CPU build is enough).

Run: python benchmarks/torch_gradient_oracle.py [--only SUBSTRING] [--failures]
"""

import argparse
import sys

from oracle import cases_edges, cases_keras_ops, cases_losses, cases_ops
from oracle.harness import CASES, LAYOUTS, TOL, run

from neurona import ops

GROUPS = [cases_ops.elementwise_cases, cases_ops.reduction_cases, cases_ops.shape_cases, cases_ops.linalg_cases,
          cases_ops.activation_cases, cases_losses.fused_loss_cases, cases_ops.conv_cases, cases_ops.pooling_cases,
          cases_ops.normalization_cases, cases_ops.cast_cases, cases_losses.loss_cases,
          cases_edges.partial_and_edge_cases, cases_edges.convention_cases,
          # the keras.ops names (appended last: the groups above keep their seeded inputs)
          cases_keras_ops.keras_math_cases, cases_keras_ops.keras_reduction_cases, cases_keras_ops.keras_linalg_cases,
          cases_keras_ops.keras_shape_cases, cases_keras_ops.keras_nn_cases, cases_keras_ops.keras_conv_pool_cases]


def covered_ops():
    """Names of ``ops.__all__`` no case mentions (a guard for new ops)."""
    text = " ".join(c["name"] for c in CASES)
    return [name for name in ops.__all__ if f"ops.{name}" not in text]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only the cases whose name contains this substring")
    parser.add_argument("--failures", action="store_true", help="print only the lines that are not PASS")
    args = parser.parse_args(argv)
    for group in GROUPS:
        group()
    missing = covered_ops()
    counts = {"PASS": 0, "CONVENTION": 0, "FAIL": 0, "ERROR": 0}
    print(f"tolerance: {TOL:g} relative (float64) unless a line says otherwise; float32/float16 casts exact")
    for c in CASES:
        if args.only not in c["name"]:
            continue
        shown = None
        for layout in LAYOUTS:
            status, fwd, grad, double, detail = run(c, layout)
            counts[status] += 1
            if args.failures and status == "PASS":
                continue
            print(f"{status:<10} {c['name']} [{layout}]  fwd={fwd:.1e} grad={grad:.1e} "
                  f"double={'OK' if double else 'NO'} tol={c['tol']:g}")
            if detail and detail != shown:  # the other layouts usually repeat it
                print(f"           -> {detail}")
            shown = detail
    for status, name, err, detail in cases_edges.state_checks():
        counts[status] += 1
        if not (args.failures and status == "PASS"):
            print(f"{status:<10} {name}  err={err:.1e}" + (f"\n           -> {detail}" if detail else ""))
    if missing:
        print(f"FAIL       ops without a case: {missing}")
        counts["FAIL"] += 1
    print("summary: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if counts["FAIL"] or counts["ERROR"] else 0


if __name__ == "__main__":
    sys.exit(main())
