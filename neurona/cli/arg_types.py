"""argparse types shared by the subcommands: a number checked against a range, with the range in the error."""

import argparse
import math


def float_in(accept, expected):
    """An argparse type: ``float(text)`` when ``accept(value)``; otherwise ``expected {expected}, got '...'``.

    Text that is not a number is read as NaN, which no range accepts, so it gets the same message.
    """
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


positive_float = float_in(lambda v: math.isfinite(v) and v > 0, "a positive number")
fraction_open = float_in(lambda v: 0 < v < 1, "a number in (0, 1)")
fraction = float_in(lambda v: 0 <= v < 1, "a number in [0, 1)")
