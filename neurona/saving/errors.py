"""The error raised for files that cannot be loaded."""


class FileFormatError(ValueError):
    """A saved model, weights or checkpoint file is truncated, corrupted, of another format version, or does
    not match the model it is loaded into. The message names the file, the layer and what was expected."""
