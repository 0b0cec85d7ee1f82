"""Time ``import neurona`` in fresh interpreters, and say what the import pulls in and changes.

    python benchmarks/import_time.py                                # this checkout
    python benchmarks/import_time.py --compare /tmp/neurona-base    # and another checkout, interleaved, same run

Each round starts one interpreter per checkout (alternating, so machine noise
hits both alike) and reads ``-X importtime``'s cumulative time of the
``neurona`` package. Also printed: whether SciPy and ``urllib.request`` were
imported and whether glibc's allocator was re-tuned by the import.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = ("import json, sys, neurona\n"
         "tuned = getattr(getattr(neurona.backend, 'allocator', None), 'is_tuned', lambda: None)()\n"
         "print(json.dumps({'scipy': 'scipy' in sys.modules, 'urllib_request': 'urllib.request' in sys.modules,"
         " 'allocator_tuned': tuned}))")


def one_import(checkout):
    """(microseconds of ``import neurona``, the probe's report) in a fresh interpreter importing ``checkout``."""
    env = {**os.environ, "PYTHONPATH": checkout}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", PROBE], capture_output=True, text=True,
                            env=env, cwd="/", check=True)
    lines = [line for line in result.stderr.splitlines() if line.rstrip().endswith("| neurona")]
    cumulative_us = int(lines[-1].split("|")[1])
    return cumulative_us, json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--compare", metavar="CHECKOUT", help="another checkout's root, timed in the same run")
    args = parser.parse_args()
    checkouts = {"this checkout": HERE}
    if args.compare:
        checkouts["compared"] = os.path.abspath(args.compare)
    times = {name: [] for name in checkouts}
    reports = {}
    for _ in range(args.rounds):
        for name, path in checkouts.items():
            us, reports[name] = one_import(path)
            times[name].append(us / 1e3)
    print(f"import neurona, median of {args.rounds} fresh interpreters (python {sys.version.split()[0]}; "
          f"SciPy installed: {_has_scipy()})")
    for name, path in checkouts.items():
        print(f"  {name:14s} {statistics.median(times[name]):7.1f} ms   {reports[name]}   ({path})")
    if args.compare:
        ratio = statistics.median(times["this checkout"]) / statistics.median(times["compared"])
        print(f"  ratio this / compared: {ratio:.2f}")


def _has_scipy():
    try:
        import scipy  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
