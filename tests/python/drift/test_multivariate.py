"""MMD against a brute-force numpy oracle; classifier and reconstruction drift."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from loopwise import drift
from loopwise.drift.multivariate import median_bandwidth


def _mmd2_unbiased(x, y, sigma):
    k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * sigma**2))
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean())


def test_mmd_statistic_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 4)), rng.normal(0.2, size=(280, 4))  # more rows than one block
    result = drift.mmd_test(x, y, bandwidth=1.7, n_permutations=20, random_state=1)
    assert result.statistic == pytest.approx(_mmd2_unbiased(x, y, 1.7), rel=1e-9, abs=1e-14)


def test_mmd_permuted_statistics_are_statistics_of_permutations():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2))
    result = drift.mmd_test(x, y, bandwidth=1.0, n_permutations=200, random_state=3)
    pooled = np.vstack([x, y])
    # Every permuted value must be the MMD of some 30/25 split: check the null's mean
    # against brute-force random splits (same distribution, independent draws).
    perm_rng = np.random.default_rng(9)
    brute = []
    for _ in range(400):
        idx = perm_rng.permutation(55)
        brute.append(_mmd2_unbiased(pooled[idx[:30]], pooled[idx[30:]], 1.0))
    assert abs(np.mean(result.null_distribution) - np.mean(brute)) < 3 * np.std(brute) / np.sqrt(200)
    expected_p = (np.sum(result.null_distribution >= result.statistic) + 1) / 201
    assert result.p_value == expected_p


def test_mmd_deterministic_across_threads():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(700, 5)), rng.normal(size=(600, 5))
    one = drift.mmd_test(x, y, n_permutations=50, random_state=11, n_jobs=1)
    two = drift.mmd_test(x, y, n_permutations=50, random_state=11, n_jobs=2)
    assert one.statistic == two.statistic and one.p_value == two.p_value
    np.testing.assert_array_equal(one.null_distribution, two.null_distribution)


def test_median_bandwidth_matches_definition():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(50, 3))
    d = cdist(z, z)[np.triu_indices(50, 1)]
    assert median_bandwidth(z) == pytest.approx(np.median(d), rel=1e-9)


def test_mmd_bad_inputs():
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="columns"):
        drift.mmd_test(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="kernel"):
        drift.mmd_test(x, x, kernel="laplace")
    with pytest.raises(ValueError, match="n_permutations"):
        drift.mmd_test(x, x, n_permutations=0)
    with pytest.raises(ValueError, match="missing or infinite"):
        drift.mmd_test(np.array([[np.nan, 1.0], [1.0, 2.0]]), x)
    with pytest.raises(ValueError, match="at least 2 rows"):
        drift.mmd_test(x[:1], x)
    with pytest.raises(ValueError, match="bandwidth"):
        drift.mmd_test(x, x, bandwidth=-1.0)


def test_classifier_test_detects_shift_and_not_noise():
    rng = np.random.default_rng(0)
    same = drift.classifier_test(rng.normal(size=(300, 3)), rng.normal(size=(300, 3)), random_state=0)
    shifted = drift.classifier_test(rng.normal(size=(300, 3)), rng.normal(size=(300, 3)) + [0.8, 0, 0],
                                    random_state=0)
    assert shifted.auc > 0.65 and shifted.p_value < 1e-4
    assert 0.4 < same.auc < 0.6 and same.p_value > 0.01


def test_reconstruction_drift_flags_broken_correlation_only():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4000, 1))
    ref = np.hstack([base, base + 0.1 * rng.normal(size=(4000, 1)), rng.normal(size=(4000, 1))])
    detector = drift.ReconstructionDrift(variance=0.6, chunk_size=250).fit(ref[:2000])
    assert not detector.score(ref[2000:])["alert"].any()
    broken = ref[2000:].copy()
    broken[:, 1] = rng.normal(size=2000)  # marginals unchanged, correlation gone
    assert detector.score(broken)["alert"].all()
