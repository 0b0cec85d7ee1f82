"""Generator states survive JSON exactly, and only NumPy's own bit generators can be named."""

import json

import numpy as np
import pytest

from neurona.saving import FileFormatError
from neurona.saving.rng_state import BIT_GENERATORS, generator_state, set_generator_state


@pytest.mark.parametrize("name", sorted(BIT_GENERATORS))
def test_state_round_trips_through_json(name):
    generator = np.random.Generator(getattr(np.random, name)(7))
    generator.random(5)  # move away from the seed state (Philox's buffer, MT19937's position)
    generator.integers(0, 10, 3, dtype=np.uint32)
    text = json.dumps(generator_state(generator))
    twin = set_generator_state(json.loads(text))
    assert type(twin.bit_generator).__name__ == name
    np.testing.assert_array_equal(twin.random(100), generator.random(100))


def test_state_is_put_into_an_existing_generator_of_the_same_kind():
    source, target = np.random.default_rng(1), np.random.default_rng(2)
    state = json.loads(json.dumps(generator_state(source)))
    assert set_generator_state(state, target) is target
    assert target.integers(0, 2**62) == source.integers(0, 2**62)


@pytest.mark.parametrize("state, message", [
    ({"bit_generator": "os.system"}, "is not one of the bit generators"),
    ("PCG64", "is not one of the bit generators"),
    ({"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}, "invalid PCG64 random generator state"),
])
def test_invalid_states_are_refused(state, message):
    with pytest.raises(FileFormatError, match=message):
        set_generator_state(state, source="model.json")
