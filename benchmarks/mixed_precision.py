"""The Keras MNIST CNN's training step under the float32, mixed_float16 and mixed_bfloat16 policies, in one run.

On the CPU the 16-bit policies exist for correctness and memory (the issue says so); this prints what they cost:
milliseconds per ``train_step`` of batch 128 for each policy, interleaved (``timing.interleaved``: each round
runs every policy once, in a rotated order), the ratio to float32, and the bytes of the activations the step
keeps for the backward pass (the saved arrays of every op node, measured by walking the graph of one forward
pass).

    NEURONA_DATA_DIR=../shared/data python benchmarks/mixed_precision.py [--steps 20] [--rounds 3]
"""

import argparse
import pathlib
import statistics
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

import mnist_cnn  # noqa: E402  (examples/mnist_cnn.py: the model as a Keras user writes it)
import timing  # noqa: E402  (benchmarks/timing.py)

import neurona as nr  # noqa: E402

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
BATCH = 128


def build(policy):
    nr.mixed_precision.set_policy(policy)
    try:
        nr.seed(0)
        model = mnist_cnn.build_model()
    finally:
        nr.mixed_precision.set_policy(None)
    return model


def saved_bytes(model, x):
    """Bytes of the arrays that the graph of one training forward pass keeps for its backward pass: what each
    op node saved and the outputs of other nodes it reads (leaves, the weights and the batch, not counted),
    each memory block once (views share their base's)."""
    out = model(x, training=True)
    nodes, stack, blocks = set(), [out], {}

    def note(array):
        while isinstance(array.base, np.ndarray):
            array = array.base
        blocks[id(array)] = array.nbytes

    while stack:
        ctx = getattr(stack.pop(), "_ctx", None)
        if ctx is None or id(ctx) in nodes:
            continue
        nodes.add(id(ctx))
        for value in vars(ctx).values():
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(item, np.ndarray):
                    note(item)
        for parent in ctx.inputs:
            if parent._ctx is not None:
                note(parent.data)
                stack.append(parent)
    return sum(blocks.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (x_train, y_train), _ = nr.datasets.mnist.load_data()
    x = (x_train[:args.steps * BATCH, :, :, None] / 255.0).astype("float32")
    y = np.eye(10, dtype="float32")[y_train[:args.steps * BATCH]]  # the example's one-hot targets
    print(f"MNIST CNN (examples/mnist_cnn.py), batch {BATCH}, {args.steps} steps per run, {args.rounds} rounds; "
          f"{timing.blas_line()}", flush=True)
    models = {policy: build(policy) for policy in POLICIES}
    for model in models.values():
        model.train_step((x[:BATCH], y[:BATCH]))  # compile the kernels, allocate the workspaces

    def run(model):
        def steps():
            for i in range(args.steps):
                model.train_step((x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]))
        return steps

    times = timing.interleaved({policy: run(model) for policy, model in models.items()}, args.rounds)
    base = statistics.median(times["float32"])
    print(f"{'policy':<16}{'ms/step':>10}{'x float32':>11}{'activations kept':>18}  optimizer")
    for policy, model in models.items():
        ms = statistics.median(times[policy]) / args.steps * 1e3
        kept = saved_bytes(model, x[:BATCH])
        print(f"{policy:<16}{ms:>10.1f}{statistics.median(times[policy]) / base:>11.2f}{kept / 2**20:>15.1f} MiB"
              f"  {type(model.optimizer).__name__}")


if __name__ == "__main__":
    main()
