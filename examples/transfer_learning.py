"""Transfer learning on MNIST: features learned on digits 0-4 reused for digits 5-9 from a few images.

1. base: a small CNN (Conv2D 16 - MaxPooling - Conv2D 32 - MaxPooling - Flatten - Dense 64 - Dense 5) trained on
   every training image of the digits 0-4;
2. stage 1: its convolutional part, frozen (``trainable = False``), inside a new functional model with a fresh
   head (Dense 64 - Dense 5) for the digits 5-9, trained on only ``target_train`` images of them (10 per digit
   by default): the head alone learns;
3. stage 2: fine-tuning: the convolutions unfrozen, the model compiled again with a 10x lower learning rate,
   a few more epochs on the same images;
4. baseline: the same architecture from scratch on the same images for as many epochs as stages 1 and 2 together.

Each is scored on the 4,861 test images of the digits 5-9. Command and output (full MNIST, 2 CPU cores)::

    NEURONA_DATA_DIR=../shared/data .venv/bin/python examples/transfer_learning.py

    | model (digits 5-9, 50 training images)     | trained weights    | epochs | test accuracy % |
    |--------------------------------------------|--------------------|--------|-----------------|
    | stage 1: frozen base + new head            | head (51,589)      | 60     | 90.27           |
    | stage 2: fine-tuned (lr 1e-4)              | all (56,389)       | +20    | 90.50           |
    | from scratch, same architecture and images | all (56,389)       | 80     | 83.77           |
    base on digits 0-4: 99.69 % test accuracy after 3 epochs on 30,596 images; reused: convolutions; seed 0; 47 s in all

The 4,800 frozen convolution weights are worth 6.5 points here; fine-tuning adds little on 50 images. Other
sizes, seeds and reusing the Dense layer too: docs/transfer_learning.md. Without the files in
``$NEURONA_DATA_DIR/mnist`` it runs on the 10,000-image subset embedded in the package.
"""

import argparse
import time

import numpy as np

import neurona as nr
from neurona import datasets, layers, optimizers, utils

INPUT_SHAPE = (28, 28, 1)


def load(target_train, seed):
    """MNIST split in two tasks: digits 0-4 (all their images) and 5-9 (``target_train`` training images)."""
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(-1, *INPUT_SHAPE).astype("float32") / 255.0
    x_test = x_test.reshape(-1, *INPUT_SHAPE).astype("float32") / 255.0
    source = y_train < 5
    # a real transfer setting: the new task has few labelled images, the same number of each digit
    rng = np.random.default_rng(seed)
    per_digit = target_train // 5
    few = np.concatenate([rng.permutation(np.flatnonzero(y_train == d))[:per_digit] for d in range(5, 10)])
    few = rng.permutation(few)
    return {
        "source_train": (x_train[source], y_train[source]),
        "source_test": (x_test[y_test < 5], y_test[y_test < 5]),
        "target_train": (x_train[few], y_train[few] - 5),  # labels 5-9 read as classes 0-4 of the new head
        "target_test": (x_test[y_test >= 5], y_test[y_test >= 5] - 5),
    }


def feature_extractor(name="features", with_dense=False):
    """The part that is reused: convolutions learn strokes and curves that digits 5-9 share with 0-4.

    The Dense layer that follows them is left out by default: the layers nearest the output are the most
    specific to the task they were trained on (Yosinski et al., "How transferable are features in deep neural
    networks?", NeurIPS 2014); ``--reuse-dense`` reuses it too, to measure that.
    """
    stack = [nr.Input(INPUT_SHAPE),
             layers.Conv2D(16, 3, activation="relu", kernel_initializer="he_normal"),
             layers.MaxPooling2D(2),
             layers.Conv2D(32, 3, activation="relu", kernel_initializer="he_normal"),
             layers.MaxPooling2D(2),
             layers.Flatten()]
    if with_dense:
        stack.append(layers.Dense(64, activation="relu", kernel_initializer="he_normal"))
    return nr.Sequential(stack, name=name)


def classifier(features, name, hidden=True):
    """``features`` under a new head (Dense 64 ReLU, if ``hidden``, then a 5-way softmax), as a functional model."""
    inputs = nr.Input(INPUT_SHAPE)
    # training=False: a pretrained base's BatchNormalization (none here, most large bases have some) keeps
    # normalizing with its moving statistics, also once unfrozen for fine-tuning, as Keras's guide advises
    x = features(inputs, training=False)
    if hidden:
        x = layers.Dense(64, activation="relu", kernel_initializer="he_normal", name=f"{name}_hidden")(x)
    outputs = layers.Dense(5, activation="softmax", name=f"{name}_output")(x)
    return nr.Model(inputs, outputs, name=name)


def compiled(model, learning_rate):
    model.compile(optimizer=optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def accuracy(model, data):
    return 100.0 * model.evaluate(*data, batch_size=256, verbose=0)[1]


def count(weights):
    return sum(int(w.size) for w in weights)


def main(base_epochs=3, head_epochs=60, fine_tune_epochs=20, target_train=50, base_train=None, reuse_dense=False,
         seed=0, verbose=0):
    """Train the base, the two transfer stages and the baseline; print and return the table's accuracies."""
    start = time.perf_counter()
    utils.set_random_seed(seed)  # weights, shuffling: the whole run repeats
    data = load(target_train, seed)
    x_source, y_source = data["source_train"]
    if base_train is not None:
        x_source, y_source = x_source[:base_train], y_source[:base_train]

    # 1. the base learns digits 0-4 from all their images
    features = feature_extractor(with_dense=reuse_dense)
    base = compiled(classifier(features, "base_0_4", hidden=not reuse_dense), 1e-3)
    base.fit(x_source, y_source, batch_size=64, epochs=base_epochs, verbose=verbose)
    base_accuracy = accuracy(base, data["source_test"])

    # 2. stage 1: the same features object, frozen, under a new head; only the head trains
    features.trainable = False
    transfer = compiled(classifier(features, "transfer_5_9", hidden=not reuse_dense), 1e-3)
    head_weights = count(transfer.trainable_weights)
    transfer.fit(*data["target_train"], batch_size=32, epochs=head_epochs, verbose=verbose)
    stage1 = accuracy(transfer, data["target_test"])

    # 3. stage 2: unfreeze and fine-tune everything, slowly, so the head's fit is refined and not wrecked
    features.trainable = True
    compiled(transfer, 1e-4)  # a new optimizer: its state starts afresh for the newly trainable weights
    transfer.fit(*data["target_train"], batch_size=32, epochs=fine_tune_epochs, verbose=verbose)
    stage2 = accuracy(transfer, data["target_test"])

    # 4. baseline: the same architecture, images and number of epochs, without the digits 0-4
    scratch = compiled(classifier(feature_extractor("scratch_features", with_dense=reuse_dense), "scratch_5_9",
                                  hidden=not reuse_dense), 1e-3)
    scratch.fit(*data["target_train"], batch_size=32, epochs=head_epochs + fine_tune_epochs, verbose=verbose)
    baseline = accuracy(scratch, data["target_test"])

    total = count(transfer.weights)
    rows = [
        ("stage 1: frozen base + new head", f"head ({head_weights:,})", f"{head_epochs}", stage1),
        ("stage 2: fine-tuned (lr 1e-4)", f"all ({total:,})", f"+{fine_tune_epochs}", stage2),
        ("from scratch, same architecture and images", f"all ({total:,})", f"{head_epochs + fine_tune_epochs}",
         baseline),
    ]
    title = f"model (digits 5-9, {len(data['target_train'][1])} training images)"
    print(f"| {title:<42} | {'trained weights':<18} | epochs | test accuracy % |")
    print(f"|{'-' * 44}|{'-' * 20}|--------|-----------------|")
    for name, trained, epochs, value in rows:
        print(f"| {name:<42} | {trained:<18} | {epochs:<6} | {value:<15.2f} |")
    reused = "convolutions and Dense 64" if reuse_dense else "convolutions"
    print(f"base on digits 0-4: {base_accuracy:.2f} % test accuracy after {base_epochs} epochs on "
          f"{len(y_source):,} images; reused: {reused}; seed {seed}; {time.perf_counter() - start:.0f} s in all")
    return {"base": base_accuracy, "stage1": stage1, "stage2": stage2, "scratch": baseline}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Transfer learning on MNIST: digits 0-4 -> digits 5-9")
    parser.add_argument("--base-epochs", type=int, default=3)
    parser.add_argument("--head-epochs", type=int, default=60)
    parser.add_argument("--fine-tune-epochs", type=int, default=20)
    parser.add_argument("--target-train", type=int, default=50, help="training images of the digits 5-9")
    parser.add_argument("--reuse-dense", action="store_true", help="freeze and reuse the Dense 64 layer too")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.base_epochs, args.head_epochs, args.fine_tune_epochs, args.target_train,
         reuse_dense=args.reuse_dense, seed=args.seed)
