"""Every statistic and p-value against scipy (relative error <= 1e-10)."""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from loopwise import drift

RTOL = 1e-10


def close(a, b):
    assert a == pytest.approx(b, rel=RTOL, abs=1e-300), (a, b)


def samples():
    rng = np.random.default_rng(42)
    yield rng.normal(size=40), rng.normal(0.3, size=55)            # unequal sizes
    yield rng.normal(size=200), rng.normal(size=200)               # equal sizes, null
    yield rng.normal(size=300), rng.normal(0.6, size=250)          # strong shift, tiny p
    yield np.round(rng.normal(size=150)), np.round(rng.normal(0.2, size=120))  # heavy ties
    yield rng.integers(0, 3, 60).astype(float), rng.integers(0, 4, 70).astype(float)
    yield np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])          # tiny
    yield rng.exponential(size=3000), rng.exponential(1.05, size=2500)


@pytest.mark.parametrize("pair", list(samples()), ids=lambda p: f"{p[0].size}x{p[1].size}")
@pytest.mark.parametrize("method", ["auto", "exact", "asymp"])
def test_ks_matches_scipy(pair, method):
    a, b = pair
    ours = drift.ks(a, b, method=method)
    theirs = stats.ks_2samp(a, b, method=method)
    close(ours.statistic, theirs.statistic)
    close(ours.p_value, theirs.pvalue)


def test_ks_auto_switches_to_asymptotic_past_10000():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10001), rng.normal(0.02, size=9000)
    ours = drift.ks(a, b)
    assert ours.method == "asymp"
    close(ours.p_value, stats.ks_2samp(a, b).pvalue)


def test_ks_exact_equal_sizes_tiny_p():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=500), rng.normal(1.0, size=500)
    ours = drift.ks(a, b, method="exact")
    assert ours.p_value < 1e-30
    close(ours.p_value, stats.ks_2samp(a, b, method="exact").pvalue)


@pytest.mark.parametrize("pair", list(samples()), ids=lambda p: f"{p[0].size}x{p[1].size}")
def test_cvm_matches_scipy(pair):
    a, b = pair
    ours = drift.cvm(a, b)
    theirs = stats.cramervonmises_2samp(a, b)
    close(ours.statistic, theirs.statistic)
    close(ours.p_value, theirs.pvalue)


@pytest.mark.parametrize("sizes", [(5, 7), (10, 10), (13, 20), (20, 20), (2, 3)])
def test_cvm_exact_matches_scipy(sizes):
    rng = np.random.default_rng(sum(sizes))
    a, b = rng.normal(size=sizes[0]), rng.normal(0.5, size=sizes[1])
    ours = drift.cvm(a, b, method="exact")
    theirs = stats.cramervonmises_2samp(a, b, method="exact")
    close(ours.statistic, theirs.statistic)
    close(ours.p_value, theirs.pvalue)


@pytest.mark.parametrize("pair", [p for p in samples() if p[0].size + p[1].size >= 4],
                         ids=lambda p: f"{p[0].size}x{p[1].size}")
def test_anderson_matches_scipy(pair):
    a, b = pair
    ours = drift.anderson(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = stats.anderson_ksamp([a, b], variant="midrank")
    close(ours.statistic, theirs.statistic)
    close(ours.p_value, theirs.pvalue)


@pytest.mark.parametrize("pair", list(samples()), ids=lambda p: f"{p[0].size}x{p[1].size}")
def test_distances_match_scipy(pair):
    a, b = pair
    close(drift.wasserstein(a, b).statistic, stats.wasserstein_distance(a, b))
    close(drift.energy(a, b).statistic, stats.energy_distance(a, b))
    close(drift.wasserstein(a, b, normalize=True).statistic, stats.wasserstein_distance(a, b) / np.std(a))


def _bin_proportions(a, b, bins):
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)[1:-1]))
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    # Independent binning: right-closed bins via digitize.
    pa = np.bincount(np.digitize(a, edges, right=True), minlength=full.size - 1)
    pb = np.bincount(np.digitize(b, edges, right=True), minlength=full.size - 1)
    return pa / pa.sum(), pb / pb.sum()


@pytest.mark.parametrize("pair", list(samples())[:5], ids=lambda p: f"{p[0].size}x{p[1].size}")
def test_binned_divergences(pair):
    a, b = pair
    p, q = _bin_proportions(a, b, 10)
    # Default base: scipy's (and evidently's) natural log.
    close(drift.jensen_shannon(a, b).statistic, jensenshannon(p, q))
    close(drift.jensen_shannon(a, b, base=2).statistic, jensenshannon(p, q, base=2))
    pe, qe = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    close(drift.psi(a, b).statistic, np.sum((qe - pe) * np.log(qe / pe)))
    close(drift.hellinger(a, b).statistic, np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def _table(a, b):
    cats = sorted(set(a) | set(b))
    return np.array([[list(a).count(c) for c in cats], [list(b).count(c) for c in cats]])


@pytest.mark.parametrize("a,b", [
    (["x"] * 30 + ["y"] * 20 + ["z"] * 10, ["x"] * 25 + ["y"] * 30 + ["z"] * 5),
    (["x"] * 30 + ["y"] * 20, ["x"] * 10 + ["y"] * 40),               # 1 dof: Yates
    (["x"] * 30 + ["y"] * 20, ["x"] * 10 + ["y"] * 30 + ["new"] * 8),  # unseen category
    (["a"] * 5 + ["b"] * 3 + ["c"] * 1, ["b"] * 6 + ["c"] * 2 + ["d"] * 4),
])
@pytest.mark.parametrize("lambda_", [None, "log-likelihood"])
def test_contingency_tests_match_scipy(a, b, lambda_):
    ours = drift.g_test(a, b) if lambda_ else drift.chi2(a, b)
    theirs = stats.chi2_contingency(_table(a, b), lambda_=lambda_)
    close(ours.statistic, theirs.statistic)
    close(ours.p_value, theirs.pvalue)
    assert ours.details["dof"] == theirs.dof


def test_unseen_categories_listed():
    result = drift.chi2(["a", "b"] * 10, ["a", "b", "c"] * 10)
    assert result.details["unseen_categories"] == ["c"]
    assert result.p_value < 0.05


def test_categorical_js_matches_scipy():
    a = ["x"] * 30 + ["y"] * 20
    b = ["x"] * 10 + ["y"] * 30 + ["z"] * 8
    p, q = np.array([30, 20, 0]) / 50, np.array([10, 30, 8]) / 48
    close(drift.jensen_shannon(a, b).statistic, jensenshannon(p, q))
    close(drift.jensen_shannon(a, b, base=2).statistic, jensenshannon(p, q, base=2))


def test_constant_and_identical_samples():
    c = np.full(30, 2.5)
    assert drift.ks(c, c).p_value == 1.0
    assert drift.wasserstein(c, c).statistic == 0.0
    assert drift.anderson(c, c).p_value == 1.0
    close(drift.ks(c, c + 1).p_value, stats.ks_2samp(c, c + 1).pvalue)
    close(drift.cvm(c, c).p_value, stats.cramervonmises_2samp(c, c).pvalue)


def test_nan_dropped_like_scipy_omit():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=50), rng.normal(size=60)
    a[[3, 7]] = np.nan
    theirs = stats.ks_2samp(a, b, nan_policy="omit")
    close(drift.ks(a, b).p_value, theirs.pvalue)


@pytest.mark.parametrize("func", [drift.ks, drift.cvm, drift.anderson, drift.wasserstein, drift.energy, drift.psi])
def test_bad_inputs(func):
    with pytest.raises(ValueError, match="current"):
        func(np.arange(10.0), np.array([]))
    with pytest.raises(ValueError, match="reference"):
        func(np.full(5, np.nan), np.arange(5.0))
    with pytest.raises(ValueError, match="infinite"):
        func(np.array([1.0, np.inf, 2.0, 3.0]), np.arange(5.0))
    with pytest.raises(ValueError, match="1-D"):
        func(np.zeros((3, 2)), np.arange(5.0))
