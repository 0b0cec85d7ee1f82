"""The Keras MNIST MLP trained by several processes at once: ``mpirun -n 4 python examples/data_parallel_mnist.py``.

Every process runs this same script on the whole dataset; ``distribute=DataParallel()`` gives each one its
part of every global batch of 128 (``batch_size`` stays the global batch, as in Keras's distribution
strategies), sums the gradients across the processes at every step, and reports the metrics of all of
them. Only rank 0 prints the progress bar and saves; every process ends with the same weights, the ones one
process would have with ``batch_size=128`` (within float32 rounding). Without ``mpirun`` it is one process.

    pip install 'neurona[mpi]'                      # mpi4py and the MPICH wheels: no system MPI needed
    mpirun -n 2 python examples/data_parallel_mnist.py --epochs 3 --save mnist_dp
"""

import argparse

from neurona import datasets, distributed, layers, models, utils


def load():
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    return (x_train, utils.to_categorical(y_train, 10)), (x_test, utils.to_categorical(y_test, 10))


def main(argv=None):
    parser = argparse.ArgumentParser(description="data-parallel MNIST MLP over MPI")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch (default 128)")
    parser.add_argument("--save", default=None, help="a folder for the trained model (written by rank 0)")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load()
    model = models.Sequential([
        layers.Input((784,)),
        layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    strategy = distributed.DataParallel()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1,
              distribute=strategy)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, distribute=strategy)
    if distributed.rank() == 0:
        print(f"{distributed.size()} process(es): test accuracy {accuracy:.4f}, test loss {loss:.4f}")
        if args.save:
            model.save(args.save)
    return accuracy


if __name__ == "__main__":
    main()
