"""Under no drift, p < 0.05 happens about 5% of the time; power grows with the shift."""

import numpy as np
import pytest

from loopwise import drift

N_NULL = 200
ALPHA = 0.05


def _normal_pair(rng, shift=0.0, n=40, m=50):
    return rng.normal(size=n), rng.normal(shift, size=m)


def _categorical_pair(rng, shift=0.0, n=120, m=100):
    p = np.array([0.5, 0.3, 0.2])
    q = p + shift * np.array([-1.0, 0.5, 0.5])
    return rng.choice(["a", "b", "c"], n, p=p), rng.choice(["a", "b", "c"], m, p=q)


CASES = {
    "ks_exact": (lambda a, b: drift.ks(a, b, method="exact"), _normal_pair),
    "ks_asymp": (lambda a, b: drift.ks(a, b, method="asymp"), lambda r, s=0.0: _normal_pair(r, s, 300, 250)),
    "cvm_asymptotic": (drift.cvm, _normal_pair),
    "cvm_exact": (lambda a, b: drift.cvm(a, b, method="exact"), lambda r, s=0.0: _normal_pair(r, s, 9, 11)),
    "anderson": (drift.anderson, _normal_pair),
    "chi2": (drift.chi2, _categorical_pair),
    "g_test": (drift.g_test, _categorical_pair),
    "mmd": (lambda a, b: drift.mmd_test(a.reshape(-1, 2), b.reshape(-1, 2), n_permutations=199, random_state=7,
                                        n_jobs=1),
            lambda r, s=0.0: _normal_pair(r, s, 80, 100)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_false_positive_rate(name):
    test, draw = CASES[name]
    rng = np.random.default_rng(2024)
    rejections = sum(test(*draw(rng)).p_value < ALPHA for _ in range(N_NULL))
    rate = rejections / N_NULL
    assert 0.02 <= rate <= 0.08, f"{name}: false-positive rate {rate:.3f}"


@pytest.mark.parametrize("name", ["ks_exact", "cvm_asymptotic", "anderson", "chi2", "mmd"])
def test_power_rises_with_shift(name):
    test, draw = CASES[name]
    shifts = [0.05, 0.15, 0.3] if name == "chi2" else [0.0, 0.4, 0.9]
    power = []
    for shift in shifts:
        rng = np.random.default_rng(99)
        power.append(np.mean([test(*draw(rng, shift)).p_value < ALPHA for _ in range(60)]))
    assert power[0] < power[1] < power[2], f"{name}: power {power}"
    assert power[2] > 0.8
