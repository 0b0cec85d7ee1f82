"""Utilities with the names of ``keras.utils``: label encoding, normalization, padding, splitting, seeding, datasets.

``get_file`` is not provided: Neurona's core never reaches the network.
"""

from ..backend.session import clear_session
from .data_utils import normalize, to_categorical
from .dataset_utils import split_dataset
from .py_dataset import PyDataset, Sequence, unpack_batch
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences

__all__ = [
    "PyDataset", "Sequence", "clear_session", "normalize", "pad_sequences", "set_random_seed", "split_dataset",
    "to_categorical", "unpack_batch",
]
