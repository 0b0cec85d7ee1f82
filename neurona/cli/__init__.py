"""The ``neurona`` command."""
