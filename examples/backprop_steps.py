"""Backpropagation by hand, in the six steps of the seed, with Neurona's tensors.

1. Initialize the weights (He initialization for the ReLU layer, Glorot for the output).
2. Forward pass: h = relu(x W1 + b1), logits = h W2 + b2.
3. Loss: mean cross-entropy between softmax(logits) and the labels.
4. Backward pass: ``loss.backward()`` applies the chain rule and fills every ``.grad``.
5. Update: a gradient-descent step, w <- w - learning_rate * dL/dw.
6. Repeat over batches and epochs.

    python examples/backprop_steps.py
"""

import numpy as np

import neurona as nr
from neurona import datasets, initializers, ops


def main(epochs=3, batch_size=64, learning_rate=0.1, hidden=64, seed=0):
    """Train a 784-hidden-10 network with an explicit loop; returns the test accuracy."""
    nr.seed(seed)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0

    # 1. initialize: weights are leaf tensors that require gradients
    w1 = nr.Variable(initializers.HeNormal(seed=seed)((784, hidden)), name="w1")
    b1 = nr.Variable(initializers.Zeros()((hidden,)), name="b1")
    w2 = nr.Variable(initializers.GlorotUniform(seed=seed + 1)((hidden, 10)), name="w2")
    b2 = nr.Variable(initializers.Zeros()((10,)), name="b2")
    params = [w1, b1, w2, b2]

    def forward(x):  # 2. forward pass
        return ops.relu(x @ w1 + b1) @ w2 + b2

    rng = np.random.default_rng(seed)
    for epoch in range(epochs):  # 6. repeat over epochs ...
        order = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(order), batch_size):  # ... and batches
            idx = order[start:start + batch_size]
            logits = forward(nr.Tensor(x_train[idx]))
            loss = ops.softmax_cross_entropy(logits, y_train[idx], sparse=True).mean()  # 3. loss
            for p in params:
                p.zero_grad()
            loss.backward()  # 4. backward pass: dL/dw for every weight
            with nr.no_grad():  # 5. update (no graph is recorded for the update itself)
                for p in params:
                    p.data -= learning_rate * p.grad
            total += float(loss.item()) * len(idx)
        print(f"epoch {epoch + 1}: mean training loss {total / len(order):.4f}")

    with nr.no_grad():
        accuracy = float((forward(nr.Tensor(x_test)).numpy().argmax(1) == y_test).mean())
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
