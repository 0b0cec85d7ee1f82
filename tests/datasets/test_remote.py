"""What every dataset loader says when its files are neither cached nor downloadable: the URL, the cache folder
and ``NEURONA_DATA_DIR``, and why no download happened; nothing is created offline."""

import os

import pytest

from neurona.datasets import cifar10, fashion_mnist, imdb

pytestmark = pytest.mark.usefixtures("no_network")  # tests/datasets/conftest.py

LOADERS = [
    (fashion_mnist.load_data, "fashion_mnist",
     "https://storage.googleapis.com/tensorflow/tf-keras-datasets/train-images-idx3-ubyte.gz"),
    (cifar10.load_data, "cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
    (imdb.load_data, "imdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
    (imdb.get_word_index, "imdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
]


@pytest.mark.parametrize("load, folder, url", LOADERS)
@pytest.mark.parametrize("download, why", [(True, "downloads are disabled (NEURONA_OFFLINE is set)"),
                                           (False, "download=False")])
def test_missing_files_name_the_url_the_cache_path_and_the_variable(tmp_path, load, folder, url, download, why):
    with pytest.raises(FileNotFoundError) as info:
        load(download=download)
    message = str(info.value)
    directory = os.path.join(str(tmp_path), "data", folder)
    assert url in message and directory in message and "NEURONA_DATA_DIR" in message and why in message
    assert not os.path.exists(directory)
