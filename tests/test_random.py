"""neurona.random: distribution statistics against closed forms, seeds, SeedGenerator, dropout and shuffle gradients.

Every statistics test draws n = 100000 seeded values, so its outcome is fixed; the
bounds are 5 standard errors for means (and variances), and the 1% Kolmogorov-Smirnov
critical value 1.63 / sqrt(n) for whole distributions.
"""

import math

import numpy as np
import pytest

import neurona as nr
from neurona import random as nrr

N = 100_000
KS_BOUND = 1.63 / math.sqrt(N)


def _ks(sample, cdf):
    """Kolmogorov-Smirnov distance between the empirical CDF of ``sample`` and ``cdf``."""
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    f = cdf(x)
    i = np.arange(1, len(x) + 1)
    return max((i / len(x) - f).max(), (f - (i - 1) / len(x)).max())


def _normal_cdf(x, mean=0.0, std=1.0):
    return 0.5 * (1 + np.vectorize(math.erf)((x - mean) / (std * math.sqrt(2))))


def _mean_ok(sample, mean, std):
    assert abs(float(np.mean(sample)) - mean) < 5 * std / math.sqrt(len(sample))


# ---- distributions ---------------------------------------------------------------------------------------


def test_normal_statistics(device):
    x = nrr.normal((N,), mean=2.0, stddev=3.0, seed=1)
    assert isinstance(x, nr.Tensor) and x.shape == (N,) and x.dtype == np.float32
    assert not x.requires_grad and x.device == device
    x = x.numpy()
    _mean_ok(x, 2.0, 3.0)
    assert abs(x.std() - 3.0) < 5 * 3.0 / math.sqrt(2 * N)
    assert _ks(x, lambda t: _normal_cdf(t, 2.0, 3.0)) < KS_BOUND


def test_uniform_statistics_and_bounds():
    x = nrr.uniform((200, 500), minval=-1.0, maxval=3.0, seed=2).numpy()
    assert x.shape == (200, 500) and x.min() >= -1.0 and x.max() < 3.0
    _mean_ok(x, 1.0, 4 / math.sqrt(12))
    assert abs(x.var() - 16 / 12) < 0.02
    assert _ks(x, lambda t: (t + 1) / 4) < KS_BOUND


def test_uniform_upper_bound_stays_excluded_after_rounding():
    # in float16 about 1 draw in 4096 of [0, 1) rounds up to 1.0: those must come back below 1
    x = nrr.uniform((N,), dtype="float16", seed=3).numpy()
    assert x.dtype == np.float16 and x.max() < 1.0 and x.min() >= 0.0


def test_randint_frequencies():
    x = nrr.randint((N,), minval=-2, maxval=3, seed=4).numpy()
    assert x.dtype == np.int32 and set(np.unique(x)) == {-2, -1, 0, 1, 2}
    counts = np.bincount(x + 2)
    chi2 = float(((counts - N / 5) ** 2 / (N / 5)).sum())
    assert chi2 < 13.28  # chi-square, 4 degrees of freedom, 1% level
    assert nrr.randint((3,), 0, 2**40, dtype="int64", seed=0).dtype == np.int64


def test_truncated_normal_statistics():
    x = nrr.truncated_normal((N,), mean=1.0, stddev=0.5, seed=5).numpy().astype(np.float64)
    assert np.abs(x - 1.0).max() <= 2 * 0.5 + 1e-6
    # closed form of N(0, 1) truncated to [-2, 2]: var = 1 - 2 * 2 * phi(2) / (Phi(2) - Phi(-2))
    phi2, mass = math.exp(-2) / math.sqrt(2 * math.pi), math.erf(2 / math.sqrt(2))
    std = 0.5 * math.sqrt(1 - 4 * phi2 / mass)
    assert abs(std / 0.5 - 0.8796) < 1e-3
    _mean_ok(x, 1.0, std)
    assert abs(x.std() - std) < 5 * std / math.sqrt(2 * N)
    truncated_cdf = lambda t: (_normal_cdf(t, 1.0, 0.5) - _normal_cdf(0.0, 1.0, 0.5)) / mass  # noqa: E731
    assert _ks(x, truncated_cdf) < KS_BOUND


def test_categorical_frequencies_follow_softmax():
    logits = np.array([[0.0, 1.0, 2.0, -np.inf], [3.0, 3.0, -np.inf, 0.0]])
    x = nrr.categorical(logits, N // 2, seed=6).numpy()
    assert x.shape == (2, N // 2) and x.dtype == np.int32
    for row, draws in zip(logits, x):
        p = np.exp(row - row.max())
        p /= p.sum()
        freq = np.bincount(draws, minlength=4) / len(draws)
        assert freq[np.isinf(row)].sum() == 0  # -inf: never drawn
        assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / len(draws)) + 1e-12)
    assert nrr.categorical(nr.Tensor([[0.0, 0.0]]), 0, dtype="int64", seed=0).shape == (1, 0)


def test_gamma_beta_binomial_moments():
    g = nrr.gamma((N,), alpha=3.0, seed=7).numpy()
    _mean_ok(g, 3.0, math.sqrt(3.0))  # mean = var = alpha
    assert abs(g.var() - 3.0) < 0.1
    b = nrr.beta((N,), alpha=2.0, beta=5.0, seed=8).numpy()
    var = 2 * 5 / (7**2 * 8)
    _mean_ok(b, 2 / 7, math.sqrt(var))
    assert b.min() >= 0 and b.max() <= 1
    k = nrr.binomial((N,), counts=10, probabilities=0.3, seed=9).numpy()
    assert k.dtype == np.float32 and set(np.unique(k)) <= set(range(11))
    _mean_ok(k, 3.0, math.sqrt(2.1))
    assert abs(k.var() - 2.1) < 0.06


def test_parameters_may_be_arrays_broadcast_to_the_shape():
    x = nrr.normal((N // 10, 2), mean=[0.0, 10.0], stddev=[1.0, 0.0], seed=10).numpy()
    np.testing.assert_array_equal(x[:, 1], 10.0)
    _mean_ok(x[:, 0], 0.0, 1.0)
    r = nrr.randint((1000, 2), minval=[0, 5], maxval=[2, 6], seed=0).numpy()
    assert set(np.unique(r[:, 0])) == {0, 1} and set(np.unique(r[:, 1])) == {5}


def test_dtype_follows_floatx():
    nr.set_floatx("float64")
    assert nrr.normal((2,), seed=0).dtype == np.float64
    assert nrr.uniform((2,), seed=0).dtype == np.float64
    nr.set_floatx("float32")
    assert nrr.normal((2,), seed=0).dtype == np.float32
    a, b = nrr.normal((5,), seed=0, dtype="float64").numpy(), nrr.normal((5,), seed=0).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6)  # one seed, the same numbers in every float dtype
    assert nrr.normal(4, seed=0).shape == (4,) and nrr.normal((), seed=0).shape == ()


# ---- seeds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("draw", [
    lambda s: nrr.normal((4,), seed=s), lambda s: nrr.uniform((4,), seed=s),
    lambda s: nrr.randint((4,), 0, 100, seed=s), lambda s: nrr.truncated_normal((4,), seed=s),
    lambda s: nrr.categorical([[0.0, 0.0, 0.0]], 8, seed=s), lambda s: nrr.shuffle(np.arange(8.0), seed=s),
    lambda s: nrr.dropout(np.ones(8), 0.5, seed=s), lambda s: nrr.gamma((4,), 1.0, seed=s),
    lambda s: nrr.beta((4,), 1.0, 2.0, seed=s), lambda s: nrr.binomial((4,), 5, 0.5, seed=s),
])
def test_seeds(draw):
    # an int seed: the same draw at every call (Keras's rule)
    np.testing.assert_array_equal(draw(7).numpy(), draw(7).numpy())
    assert not np.array_equal(draw(7).numpy(), draw(8).numpy()) or draw(7).size <= 1
    # a SeedGenerator moves on at each draw, and its first draw is the int seed's
    gen = nrr.SeedGenerator(7)
    first, second = draw(gen).numpy(), draw(gen).numpy()
    np.testing.assert_array_equal(first, draw(7).numpy())
    assert not np.array_equal(first, second)
    again = nrr.SeedGenerator(7)
    np.testing.assert_array_equal(draw(again).numpy(), first)
    np.testing.assert_array_equal(draw(again).numpy(), second)
    # seed=None draws from the library-wide generator: nr.seed makes it repeatable
    nr.seed(3)
    a, b = draw(None).numpy(), draw(None).numpy()
    nr.seed(3)
    np.testing.assert_array_equal(draw(None).numpy(), a)
    np.testing.assert_array_equal(draw(None).numpy(), b)


def test_seed_generator_state_name_and_config():
    nr.backend.clear_session()
    gen = nrr.SeedGenerator(5)
    assert gen.name == "seed_generator" and nrr.SeedGenerator(5).name == "seed_generator_1"
    np.testing.assert_array_equal(gen.state, [5, 0])
    np.testing.assert_array_equal(gen.next(), [5, 0])
    np.testing.assert_array_equal(gen.state, [5, 1])
    clone = nrr.SeedGenerator.from_config(gen.get_config())
    assert clone.get_config() == {"seed": 5, "name": "seed_generator"}
    np.testing.assert_array_equal(clone.state, [5, 0])
    nr.seed(11)
    s1 = nrr.SeedGenerator().state
    nr.seed(11)
    np.testing.assert_array_equal(nrr.SeedGenerator().state, s1)  # an unseeded generator follows nr.seed
    assert nrr.SeedGenerator(name="mine").name == "mine"


# ---- dropout and shuffle ---------------------------------------------------------------------------------


def test_dropout_keeps_one_minus_rate_and_scales(device):
    x = nr.Tensor(np.full((N,), 2.0, np.float32), requires_grad=True)
    y = nrr.dropout(x, 0.3, seed=12)
    assert y.requires_grad and y.device == device and y.dtype == np.float32
    values = y.numpy()
    assert set(np.unique(values)) == {0.0, np.float32(2.0 / 0.7)}
    kept = (values != 0).mean()
    assert abs(kept - 0.7) < 5 * math.sqrt(0.21 / N)
    y.sum().backward()  # the gradient is the mask itself: 1 / (1 - rate) where kept, else 0
    np.testing.assert_allclose(nr.backend.asnumpy(x.grad), (values != 0) / 0.7, rtol=1e-6)


def test_dropout_gradcheck():
    x = np.random.default_rng(0).standard_normal((4, 5))
    assert nr.gradcheck(lambda t: nrr.dropout(t, 0.4, seed=3), x)
    assert nr.gradcheck(lambda t: nrr.dropout(t, 0.5, noise_shape=(None, 1), seed=4), x)


def test_dropout_noise_shape_rate_zero_and_one():
    y = nrr.dropout(np.ones((50, 6)), 0.5, noise_shape=(1, None), seed=1).numpy()
    assert np.all(y == y[0])  # one mask row shared by every sample
    assert set(np.unique(y)) == {0.0, 2.0}
    x = nr.Tensor(np.ones((3, 2)), requires_grad=True)
    assert nrr.dropout(x, 0.0) is x
    z = nrr.dropout(x, 1.0, seed=0)
    np.testing.assert_array_equal(z.numpy(), 0.0)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_shuffle_permutes_slices_and_is_differentiable():
    x = np.arange(24.0).reshape(4, 6)
    rows = nrr.shuffle(x, seed=1).numpy()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))
    cols = nrr.shuffle(x, axis=-1, seed=2).numpy()
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)
    np.testing.assert_array_equal(cols - np.arange(0, 24, 6)[:, None], np.tile(cols[0], (4, 1)))  # one order
    assert len({tuple(nrr.shuffle(np.arange(10), seed=s).numpy()) for s in range(20)}) > 15
    assert nr.gradcheck(lambda t: nrr.shuffle(t, axis=1, seed=5), np.random.default_rng(1).standard_normal((3, 4)))


# ---- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, match", [
    (lambda: nrr.normal((2, -1)), ValueError, r"normal: shape must be a non-negative integer .* got \(2, -1\)"),
    (lambda: nrr.normal((2.0,)), ValueError, "normal: shape"),
    (lambda: nrr.normal((2,), seed=-1), ValueError, "normal: seed must be None, a non-negative integer or a "
                                                    "SeedGenerator, got -1 \\(int\\)"),
    (lambda: nrr.uniform((2,), seed=1.5), ValueError, "uniform: seed .* got 1.5"),
    (lambda: nrr.uniform((2,), seed="a"), ValueError, "uniform: seed"),
    (lambda: nrr.normal((2,), dtype="int32"), ValueError, "normal: dtype must be a floating-point dtype"),
    (lambda: nrr.normal((2,), dtype="nonsense"), TypeError, "normal: 'nonsense' is not a dtype"),
    (lambda: nrr.randint((2,), 0, 5, dtype="float32"), ValueError, "randint: dtype must be an integer dtype"),
    (lambda: nrr.normal((2,), stddev=-1.0), ValueError, "normal: stddev must be >= 0, got -1.0"),
    (lambda: nrr.normal((2,), mean=np.nan), ValueError, "normal: mean must be finite"),
    (lambda: nrr.normal((2,), mean="0"), TypeError, "normal: mean must be a real number"),
    (lambda: nrr.normal((2,), mean=[1.0, 2.0, 3.0]), ValueError, r"mean of shape \(3,\) does not broadcast"),
    (lambda: nrr.uniform((2,), 1.0, 1.0), ValueError, "uniform: minval must be less than maxval"),
    (lambda: nrr.randint((2,), 3, 3), ValueError, "randint: minval must be less than maxval"),
    (lambda: nrr.randint((2,), 0.5, 3), TypeError, "randint: minval must be an integer"),
    (lambda: nrr.randint((2,), 0, 300, dtype="int8"), ValueError, r"does not fit dtype int8 .*\[-128, 127\]"),
    (lambda: nrr.gamma((2,), 0.0), ValueError, "gamma: alpha must be > 0"),
    (lambda: nrr.binomial((2,), 3, 1.5), ValueError, r"binomial: probabilities must be in \[0, 1\]"),
    (lambda: nrr.binomial((2,), -3, 0.5), ValueError, "binomial: counts must be >= 0"),
    (lambda: nrr.categorical([0.0, 1.0], 3), ValueError, r"logits must be a 2-D .* shape \(2,\)"),
    (lambda: nrr.categorical([[0.0, np.nan]], 3), ValueError, "categorical: logits must be finite or -inf"),
    (lambda: nrr.categorical([[-np.inf, -np.inf]], 3), ValueError, "at least one finite logit per row"),
    (lambda: nrr.categorical([[0.0]], -1), ValueError, "num_samples must be a non-negative integer"),
    (lambda: nrr.dropout(np.ones(3), 1.5), ValueError, r"dropout: rate must be a number in \[0, 1\], got 1.5"),
    (lambda: nrr.dropout(np.ones((3, 2)), 0.5, noise_shape=(3,)), ValueError, "noise_shape .* expected 2 entries"),
    (lambda: nrr.dropout(np.ones((3, 2)), 0.5, noise_shape=(2, 2)), ValueError, "each None, 1 or the input's size"),
    (lambda: nrr.shuffle(np.ones((2, 3)), axis=2), ValueError, r"shuffle: axis must be an integer in \[-2, 1\]"),
    (lambda: nrr.shuffle(1.0), ValueError, "shuffle: x must have at least one axis"),
    (lambda: nrr.SeedGenerator(-2), ValueError, "SeedGenerator: seed must be None or a non-negative integer"),
    (lambda: nrr.SeedGenerator(True), ValueError, "SeedGenerator: seed"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_exposed_as_nr_random():
    assert nr.random is nrr
    assert {"normal", "uniform", "randint", "truncated_normal", "categorical", "shuffle", "dropout", "gamma",
            "beta", "binomial", "SeedGenerator"} <= set(nrr.__all__)
