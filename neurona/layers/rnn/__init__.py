"""Recurrent layers: the cells (one time step) and the layers that run them over sequences."""

from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .rnn import GRU, LSTM, RNN, SimpleRNN

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell"]
