"""Error rates over seeds: datetime columns and high-cardinality strings are not flagged
more often than alpha without drift, and are flagged when they shift. Oracles: scipy's
jensenshannon (natural log), statsmodels' two-proportion z-test, scipy's Wasserstein
distance, a Monte Carlo permutation test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from loopwise import drift
from loopwise.drift import _high_cardinality as hc

ALPHA = 0.05
SEEDS = 200
# Allowed false-positive rate: alpha plus three binomial standard errors over the seeds.
FPR_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


def _dates(rng, n, shift_days=0.0, tz=None):
    days = rng.integers(0, 365, n) + shift_days  # day resolution: many ties, as real signup dates
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({"signup": stamps.tz_localize(tz) if tz else stamps})


@pytest.mark.parametrize("tz", [None, "Asia/Tokyo"])
@pytest.mark.parametrize("sizes", [(4000, 2000), (800, 400)], ids=["wasserstein", "ks"])
def test_same_distribution_datetime_is_not_flagged_above_alpha(sizes, tz):
    flagged = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        table = drift.compare(_dates(rng, sizes[0], tz=tz), _dates(rng, sizes[1], tz=tz), correction=None).table
        assert table.loc[0, "kind"] == "datetime"
        flagged += bool(table.loc[0, "drifted"])
    assert flagged / SEEDS <= FPR_LIMIT, flagged


@pytest.mark.parametrize("sizes", [(4000, 2000), (800, 400)], ids=["wasserstein", "ks"])
def test_shifted_datetime_is_flagged(sizes):
    flagged = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        flagged += bool(drift.compare(_dates(rng, sizes[0]), _dates(rng, sizes[1], shift_days=60)).table.loc[0, "drifted"])
    assert flagged >= 48, flagged


def test_the_issue_example_signup_4000_vs_2000_is_not_flagged():
    rng = np.random.default_rng(13)
    table = drift.compare(_dates(rng, 4000), _dates(rng, 2000)).table
    assert table.loc[0, "test"] == "wasserstein" and not table.loc[0, "drifted"]


def test_jensen_shannon_uses_the_natural_log_like_scipy():
    rng = np.random.default_rng(3)
    cats = np.array(["a", "b", "c", "d"])
    ref = pd.DataFrame({"c": cats[rng.choice(4, 3000, p=[0.4, 0.3, 0.2, 0.1])]})
    cur = pd.DataFrame({"c": cats[rng.choice(4, 1500, p=[0.3, 0.3, 0.2, 0.2])]})
    row = drift.compare(ref, cur).table.iloc[0]
    p = ref["c"].value_counts(normalize=True).reindex(cats).to_numpy()
    q = cur["c"].value_counts(normalize=True).reindex(cats).to_numpy()
    assert row["test"] == "jensen_shannon"
    assert row["statistic"] == pytest.approx(jensenshannon(p, q), rel=1e-10)
    assert drift.jensen_shannon(ref["c"].to_numpy(), cur["c"].to_numpy()).statistic == pytest.approx(
        jensenshannon(p, q), rel=1e-10)


def test_z_test_matches_statsmodels():
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"active": rng.random(700) < 0.6})
    cur = pd.DataFrame({"active": rng.random(300) < 0.5})
    row = drift.compare(ref, cur).table.iloc[0]
    z, p = proportions_ztest([int((~ref["active"]).sum()), int((~cur["active"]).sum())], [700, 300])
    assert row["test"] == "z"
    assert row["statistic"] == pytest.approx(z, rel=1e-10) and row["p_value"] == pytest.approx(p, rel=1e-10)
    direct = drift.z_test(ref["active"].to_numpy(), cur["active"].to_numpy())
    assert direct.p_value == pytest.approx(p, rel=1e-10)


def test_wasserstein_floor_on_a_constant_reference_is_evidently_s():
    ref = pd.DataFrame({"x": np.full(2000, 3.0)})
    cur = pd.DataFrame({"x": np.linspace(2.9, 3.1, 2000)})
    row = drift.compare(ref, cur, tests="wasserstein").table.iloc[0]
    assert row["statistic"] == pytest.approx(wasserstein_distance(ref["x"], cur["x"]) / 0.001, rel=1e-9)


# ----------------------------------------------------------------------- high cardinality
def _codes(rng, n, new_share=0.0, n_codes=400):
    weights = 1.0 / np.arange(1, n_codes + 1) ** 1.1  # a long tail of rare codes
    codes = rng.choice(n_codes, n, p=weights / weights.sum())
    values = np.array([f"Z{c:04d}" for c in codes], dtype=object)
    fresh = rng.random(n) < new_share
    values[fresh] = [f"NEW{c}" for c in rng.integers(0, 30, fresh.sum())]
    return values


@pytest.mark.parametrize("sizes", [(3000, 1500), (600, 300)])
def test_same_distribution_high_cardinality_is_not_flagged_above_alpha(sizes):
    flagged = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        ref = pd.DataFrame({"zip": _codes(rng, sizes[0]), "user": [f"u{i}" for i in rng.integers(0, 10**9, sizes[0])]})
        cur = pd.DataFrame({"zip": _codes(rng, sizes[1]), "user": [f"u{i}" for i in rng.integers(0, 10**9, sizes[1])]})
        table = drift.compare(ref, cur, correction=None).table.set_index("column")
        assert (table["test"] == "high_cardinality").all()
        flagged += bool(table.loc["zip", "drifted"])
        assert not table.loc["user", "drifted"]  # all-unique ids: nothing can be told apart
    assert flagged / SEEDS <= FPR_LIMIT, flagged


def test_new_categories_are_detected_and_reported():
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        ref, cur = _codes(rng, 3000), _codes(rng, 1500, new_share=0.1)
        table = drift.compare(pd.DataFrame({"zip": ref}), pd.DataFrame({"zip": cur})).table
        hits += bool(table.loc[0, "drifted"])
        # statistic: share of current rows whose code the reference never saw
        assert table.loc[0, "statistic"] == pytest.approx(np.mean(~np.isin(cur, ref)), rel=1e-12)
    assert hits == 20


def test_frequency_shift_among_top_categories_is_detected():
    rng = np.random.default_rng(5)
    ref = _codes(rng, 3000)
    cur = _codes(rng, 1500)
    cur[rng.random(1500) < 0.2] = "Z0003"  # an existing code becomes common
    row = drift.compare(pd.DataFrame({"zip": ref}), pd.DataFrame({"zip": cur})).table.iloc[0]
    assert row["drifted"] and "top-" in row["method"]


def test_new_category_p_value_against_a_permutation_oracle():
    rng = np.random.default_rng(6)
    ref, cur = _codes(rng, 500), _codes(rng, 250, new_share=0.03)
    pooled = np.concatenate([ref, cur])
    _, codes = np.unique(pooled, return_inverse=True)

    def new_rows(labels_cur):
        in_ref = np.zeros(codes.max() + 1, dtype=bool)
        in_ref[codes[~labels_cur]] = True
        return int((~in_ref[codes[labels_cur]]).sum())

    is_cur = np.r_[np.zeros(500, bool), np.ones(250, bool)]
    observed = new_rows(is_cur)
    perm_rng = np.random.default_rng(0)
    draws = 4000
    exceed = sum(new_rows(perm_rng.permutation(is_cur)) >= observed for _ in range(draws))
    p_perm = (exceed + 1) / (draws + 1)
    p = np.bincount(codes[:500], minlength=codes.max() + 1)
    q = np.bincount(codes[500:], minlength=codes.max() + 1)
    share, _, p_ours = hc.new_category_test(p, q)
    assert share == observed / 250
    # Categories treated as independent: close to the permutation p-value, never much smaller.
    se = math.sqrt(p_perm * (1 - p_perm) / draws)
    assert p_perm - 3 * se - 1e-3 <= p_ours <= max(2.0 * p_perm, p_perm + 0.05), (p_ours, p_perm)
