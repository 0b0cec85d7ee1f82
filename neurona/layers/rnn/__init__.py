"""Recurrent layers: the cells (one time step) and the layers that run them over sequences."""

from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .rnn import GRU, LSTM, RNN, SimpleRNN
from .wrappers import Bidirectional, TimeDistributed

__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "TimeDistributed"]
