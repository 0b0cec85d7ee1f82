"""Run a Keras program on Neurona with only its import lines changed, section by section, and say what passed.

    python benchmarks/port_keras_program.py path/to/keras-io/guides/functional_api.py [--cut REGEX] [--json F]

The program (a keras-io guide or example, or any script) is ported mechanically:
``import keras`` becomes ``import neurona as keras``, ``from keras[.x] import y``
becomes ``from neurona[.x] import y``, and the tf.keras forms ``from tensorflow import
keras`` / ``from tensorflow.keras[.x] import y`` likewise; no other line changes.
keras-io programs are cut into sections at their markdown blocks (a line ``\"\"\"``
followed by a ``## `` or ``### `` heading); the sections run in order in one
namespace, and a failing section does not stop the next ones (which may then fail
for want of what it defined: the summary says so only through their errors).
``--cut`` drops the sections whose heading matches a regular expression (those
that need TensorFlow, a download or a GPU), and the summary lists them as cut.
``--drop-import tensorflow`` comments out the lines importing that module (a
program that imports TensorFlow only for some sections then runs the others;
the sections that use it fail, and are counted). ``--max-epochs N`` caps the
``epochs`` of every ``fit`` call (the summary says so), for long training runs.
The keras-io programs themselves are not part of this repository: fetch them
from https://github.com/keras-team/keras-io.
"""

import argparse
import json
import re
import sys
import time
import traceback

# `import keras [as k]`, `import keras.x [as k]`, `from tensorflow import keras [as k]`: Neurona under the name the
# program uses; `from keras[.x] import y` and `from tensorflow.keras[.x] import y`: the same names from Neurona
_IMPORT = re.compile(r"^(?P<indent>[ \t]*)(?:import keras(?P<sub>(?:\.\w+)*)|from tensorflow import keras(?P<tfsub>))"
                     r"(?:[ \t]+as[ \t]+(?P<alias>\w+))?[ \t]*$", re.M)
_FROM = re.compile(r"^([ \t]*)from (?:tensorflow\.)?keras(?=[. ])", re.M)


def _import(match):
    sub, alias = match["sub"] or "", match["alias"]
    if alias:
        return f"{match['indent']}import neurona{sub} as {alias}"
    return f"{match['indent']}import neurona as keras"  # `import keras.x` binds the name keras itself


_HEADING = re.compile(r"^#{2,3} ")


def port(source):
    """The program with its Keras imports pointed at Neurona; every other line unchanged."""
    return _FROM.sub(r"\1from neurona", _IMPORT.sub(_import, source))


def drop_imports(source, modules):
    """The program with the lines importing ``modules`` (top-level names) commented out."""
    for module in modules:
        pattern = rf"^([ \t]*)((?:import|from)[ \t]+{re.escape(module)}\b.*)$"
        source = re.sub(pattern, r"\1pass  # dropped: \2", source, flags=re.M)
    return source


def cap_epochs(limit):
    """Make every ``neurona.models.Model.fit`` call train at most ``limit`` epochs; return the call counter."""
    from neurona.models import Model

    fit, capped = Model.fit, {"calls": 0}

    def fit_capped(self, *args, **kwargs):
        if len(args) >= 4 and args[3] > limit:  # fit(x, y, batch_size, epochs, ...)
            args = args[:3] + (limit,) + args[4:]
            capped["calls"] += 1
        elif kwargs.get("epochs", 1) > limit:
            kwargs["epochs"] = limit
            capped["calls"] += 1
        return fit(self, *args, **kwargs)

    Model.fit = fit_capped
    return capped


def sections(source):
    """``[(heading, first line number, text)]``: the preamble, then one entry per markdown heading."""
    lines = source.splitlines(keepends=True)
    starts = [0] + [i for i in range(1, len(lines) - 1)
                    if lines[i].strip() == '"""' and _HEADING.match(lines[i + 1])]
    out = []
    for start, stop in zip(starts, starts[1:] + [len(lines)]):
        heading = lines[start + 1].strip().lstrip("#").strip() if start else "(preamble)"
        # blank lines before the section keep the tracebacks' line numbers those of the file
        out.append((heading, start + 1, "\n" * start + "".join(lines[start:stop])))
    return out


def run(path, cut=None, stream=sys.stdout, drop=()):
    """Run the ported program's sections; return ``[{"section", "line", "status", "error", "seconds"}]``."""
    with open(path, encoding="utf-8") as f:
        source = drop_imports(port(f.read()), drop)
    namespace, results = {"__name__": "__main__", "__file__": path}, []
    for heading, line, text in sections(source):
        if cut and re.search(cut, heading):
            results.append({"section": heading, "line": line, "status": "CUT", "error": None, "seconds": 0.0})
            continue
        print(f"\n==== {heading} (line {line})", file=stream, flush=True)
        start, error = time.perf_counter(), None
        try:
            exec(compile(text, path, "exec"), namespace)  # noqa: S102 - the program the user asked to run
        except BaseException as exc:  # noqa: BLE001 - report every failure, SystemExit included, and go on
            if isinstance(exc, KeyboardInterrupt):
                raise
            traceback.print_exc(file=stream)
            error = f"{type(exc).__name__}: {exc}"
        results.append({"section": heading, "line": line, "status": "FAIL" if error else "PASS",
                        "error": error, "seconds": round(time.perf_counter() - start, 2)})
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", help="a Keras program (.py)")
    parser.add_argument("--cut", help="regular expression: skip the sections whose heading matches it")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--drop-import", action="append", default=[], metavar="MODULE",
                        help="comment out the imports of MODULE (repeatable), e.g. tensorflow")
    parser.add_argument("--max-epochs", type=int, help="train at most this many epochs in each fit call")
    args = parser.parse_args(argv)
    capped = cap_epochs(args.max_epochs) if args.max_epochs else None
    results = run(args.program, args.cut, drop=args.drop_import)
    print("\n==== summary")
    for r in results:
        print(f"{r['status']:<5} {r['seconds']:7.1f}s  {r['section'][:60]:<60} {(r['error'] or '')[:100]}")
    counts = {s: sum(r["status"] == s for r in results) for s in ("PASS", "FAIL", "CUT")}
    print(f"{args.program}: {counts['PASS']} of {counts['PASS'] + counts['FAIL']} sections pass"
          + (f", {counts['CUT']} cut" if counts["CUT"] else "")
          + (f"; fit capped at {args.max_epochs} epochs {capped['calls']} time(s)" if capped else ""))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0 if counts["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
