"""TreeSHAP against brute-force Shapley oracles on random ensembles.

The oracle routes rows with its own reading of the split rules (not the core's) and
enumerates every coalition, so it shares no code with the method under test.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np

from loopwise.models import TreeEnsemble


def random_ensemble(seed, n_features=5, n_outputs=1, n_trees=4, max_depth=4, categorical=True, zero_cover=True):
    """Trees with numeric and categorical splits, NaN routing, zero-cover nodes and
    per-output or vector leaves. Returns (TreeEnsemble, python description)."""
    rng = np.random.default_rng(seed)
    fields = {k: [] for k in ("feature", "threshold", "left", "right", "default_left", "missing_rule", "cover", "value")}
    cat_node, cat_left, cat_right, cat_other = [], [], [], []
    offsets, tree_output = [0], []
    for t in range(n_trees):
        out = int(rng.integers(-1, n_outputs)) if n_outputs > 1 else 0
        width = n_outputs if out < 0 else 1
        tree_output.append(out)
        nodes = []  # local index -> dict

        def grow(depth, cover):
            index = len(nodes)
            nodes.append(None)
            if depth == 0 or (depth < max_depth and rng.random() < 0.2):
                nodes[index] = dict(feature=-1, cover=cover, value=rng.normal(size=width))
                return index
            f = int(rng.integers(n_features))
            node = dict(feature=f, cover=cover, value=np.zeros(width), default_left=int(rng.integers(2)))
            if categorical and rng.random() < 0.3:
                cats = rng.permutation(5)
                node["cat"] = (sorted(cats[:2].tolist()), sorted(cats[2:4].tolist()), int(rng.integers(2)))
                node["threshold"], node["missing_rule"] = 0.0, 0
            else:
                node["threshold"] = float(rng.normal())
                node["missing_rule"] = int(rng.choice([0, 2]))
            share = rng.uniform(0.05, 0.95)
            if zero_cover and rng.random() < 0.15:
                share = 0.0 if rng.random() < 0.5 else 1.0
            left_cover = cover * share
            if zero_cover and cover == 0.0:
                left_cover = 0.0
            node["left"] = grow(depth - 1, left_cover)
            node["right"] = grow(depth - 1, cover - left_cover)
            nodes[index] = node
            return index

        grow(max_depth, float(rng.uniform(10, 100)))
        base = offsets[-1]
        for local, node in enumerate(nodes):
            leaf = node["feature"] < 0
            fields["feature"].append(node["feature"])
            fields["threshold"].append(0.0 if leaf else node["threshold"])
            fields["left"].append(-1 if leaf else node["left"])
            fields["right"].append(-1 if leaf else node["right"])
            fields["default_left"].append(0 if leaf else node["default_left"])
            fields["missing_rule"].append(0 if leaf else node["missing_rule"])
            fields["cover"].append(node["cover"])
            fields["value"].extend(np.asarray(node["value"]).tolist())
            if "cat" in node:
                cat_node.append(base + local)
                cat_left.append(node["cat"][0])
                cat_right.append(node["cat"][1])
                cat_other.append(node["cat"][2])
        offsets.append(base + len(nodes))
        fields.setdefault("_trees", []).append((nodes, out))
    trees = fields.pop("_trees")
    arrays = {k: np.asarray(v) for k, v in fields.items()}
    arrays.update(
        tree_offsets=np.asarray(offsets),
        tree_output=np.asarray(tree_output),
        cat_node=np.asarray(cat_node, dtype=np.int64),
        cat_left_ptr=np.concatenate([[0], np.cumsum([len(c) for c in cat_left])]).astype(np.int64),
        cat_left=np.asarray([c for cs in cat_left for c in cs], dtype=np.int32),
        cat_right_ptr=np.concatenate([[0], np.cumsum([len(c) for c in cat_right])]).astype(np.int64),
        cat_right=np.asarray([c for cs in cat_right for c in cs], dtype=np.int32),
        cat_other_left=np.asarray(cat_other, dtype=np.uint8),
        base_score=rng.normal(size=n_outputs),
        n_features=n_features,
        n_outputs=n_outputs,
        comparison=0,
        float32_inputs=False,
        category_cast=0,
        link=0 if n_outputs == 1 else 2,
        link_scale=1.0,
    )
    ensemble = TreeEnsemble(arrays, task="regression" if n_outputs == 1 else "multiclass")
    return ensemble, dict(trees=trees, base=arrays["base_score"], n_outputs=n_outputs)


def random_rows(seed, n, n_features, nan_fraction=0.15):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    # Some values look like categories (small non-negative and negative integers).
    mask = rng.random(size=X.shape) < 0.3
    X[mask] = rng.integers(-1, 6, size=mask.sum())
    X[rng.random(size=X.shape) < nan_fraction] = np.nan
    return X


def route(node, x):
    """Child a value goes to, read from the split definition."""
    value = x[node["feature"]]
    if "cat" in node:
        left, right, other_left = node["cat"]
        if np.isnan(value):
            return node["left"] if node["default_left"] else node["right"]
        if value >= 0 and int(value) in left:
            return node["left"]
        if value >= 0 and int(value) in right:
            return node["right"]
        return node["left"] if other_left else node["right"]
    if np.isnan(value):
        if node["missing_rule"] == 0:
            return node["left"] if node["default_left"] else node["right"]
        value = 0.0
    return node["left"] if value <= node["threshold"] else node["right"]


def _add(total, value, out, n_outputs, weight=1.0):
    if out < 0:
        total += weight * np.asarray(value)
    else:
        total[out] += weight * value[0]


def path_expectation(model, x, coalition):
    """E[f(x) | x_S] with the cover-weighted rule (children weighted by cover share; 1/2 each
    when both children have zero cover)."""
    total = np.array(model["base"], dtype=np.float64)
    for nodes, out in model["trees"]:
        def expect(i):
            node = nodes[i]
            if node["feature"] < 0:
                return np.asarray(node["value"], dtype=np.float64)
            if node["feature"] in coalition:
                return expect(route(node, x))
            cl, cr = nodes[node["left"]]["cover"], nodes[node["right"]]["cover"]
            share = cl / (cl + cr) if cl + cr > 0 else 0.5
            return share * expect(node["left"]) + (1 - share) * expect(node["right"])

        _add(total, expect(0), out, model["n_outputs"])
    return total


def predict(model, x):
    total = np.array(model["base"], dtype=np.float64)
    for nodes, out in model["trees"]:
        i = 0
        while nodes[i]["feature"] >= 0:
            i = route(nodes[i], x)
        _add(total, nodes[i]["value"], out, model["n_outputs"])
    return total


def _all_values(game, m):
    return {frozenset(s): game(frozenset(s)) for r in range(m + 1) for s in itertools.combinations(range(m), r)}


def shapley(game, m):
    """Exact Shapley values (m x outputs) by enumerating all coalitions."""
    v = _all_values(game, m)
    phi = np.zeros((m,) + np.shape(v[frozenset()]))
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for r in range(m):
            weight = factorial(r) * factorial(m - r - 1) / factorial(m)
            for s in itertools.combinations(others, r):
                s = frozenset(s)
                phi[i] += weight * (v[s | {i}] - v[s])
    return phi, v[frozenset()]


def shapley_interactions(game, m):
    """Exact Shapley interaction values (m x m x outputs), diagonal = phi_i - sum of row."""
    v = _all_values(game, m)
    phi, _ = shapley(game, m)
    out = np.zeros((m, m) + np.shape(v[frozenset()]))
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            others = [k for k in range(m) if k not in (i, j)]
            for r in range(m - 1):
                weight = factorial(r) * factorial(m - r - 2) / (2 * factorial(m - 1))
                for s in itertools.combinations(others, r):
                    s = frozenset(s)
                    out[i, j] += weight * (v[s | {i, j}] - v[s | {i}] - v[s | {j}] + v[s])
        out[i, i] = phi[i] - out[i].sum(axis=0)
    return out


# ---------------------------------------------------------------------------- tests
import pytest  # noqa: E402

from loopwise.explain import TreeExplainer  # noqa: E402

TOL = 1e-9


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_path_dependent_matches_brute_force(seed, n_outputs):
    m = 6
    ensemble, model = random_ensemble(seed, n_features=m, n_outputs=n_outputs, n_trees=4, max_depth=5)
    X = random_rows(seed + 100, 4, m)
    explainer = TreeExplainer(ensemble)
    got = explainer.shap_values(X)
    for i, x in enumerate(X):
        phi, base = shapley(lambda s: path_expectation(model, x, s), m)
        expected = phi[:, 0] if n_outputs == 1 else phi
        np.testing.assert_allclose(got[i], expected, atol=TOL, rtol=0)
        np.testing.assert_allclose(np.atleast_1d(explainer.expected_value), base, atol=TOL, rtol=0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_interactions_match_brute_force(seed, n_outputs):
    m = 5
    ensemble, model = random_ensemble(seed + 10, n_features=m, n_outputs=n_outputs, n_trees=3, max_depth=5)
    X = random_rows(seed + 200, 3, m)
    got = TreeExplainer(ensemble).shap_interaction_values(X)
    for i, x in enumerate(X):
        expected = shapley_interactions(lambda s: path_expectation(model, x, s), m)
        expected = expected[..., 0] if n_outputs == 1 else expected
        np.testing.assert_allclose(got[i], expected, atol=TOL, rtol=0)
        np.testing.assert_allclose(got[i], np.swapaxes(got[i], 0, 1), atol=TOL, rtol=0)


def _hybrid_game(model, x, background, transform=None):
    def game(s):
        rows = background.copy()
        cols = sorted(s)
        rows[:, cols] = x[cols]
        values = np.array([predict(model, r) for r in rows])
        return values.mean(axis=0) if transform is None else transform(values).mean(axis=0)

    return game


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_interventional_matches_brute_force(seed, n_outputs):
    m = 5
    ensemble, model = random_ensemble(seed + 20, n_features=m, n_outputs=n_outputs, n_trees=4, max_depth=4)
    background = random_rows(seed + 300, 6, m)
    X = random_rows(seed + 400, 3, m)
    explainer = TreeExplainer(ensemble, background)
    got = explainer.shap_values(X)
    for i, x in enumerate(X):
        phi, base = shapley(_hybrid_game(model, x, background), m)
        expected = phi[:, 0] if n_outputs == 1 else phi
        np.testing.assert_allclose(got[i], expected, atol=TOL, rtol=0)
        np.testing.assert_allclose(np.atleast_1d(explainer.expected_value), base, atol=TOL, rtol=0)


@pytest.mark.parametrize("n_background", [1, 70, 130])
def test_interventional_deep_trees_large_background_match_brute_force(n_background):
    # Depth 7 on 4 features repeats features along paths; 70 and 130 rows span 2 and 3
    # bitset words, so rows share path patterns per leaf (the merged terms of the fast path).
    m = 4
    ensemble, model = random_ensemble(50 + n_background, n_features=m, n_outputs=2, n_trees=3, max_depth=7)
    background = random_rows(60 + n_background, n_background, m)
    X = random_rows(70 + n_background, 3, m)
    got = TreeExplainer(ensemble, background).shap_values(X)
    for i, x in enumerate(X):
        phi, _ = shapley(_hybrid_game(model, x, background), m)
        np.testing.assert_allclose(got[i], phi, atol=TOL, rtol=0)


def test_interventional_probability_rescales_each_background_pair():
    m = 4
    ensemble, model = random_ensemble(7, n_features=m, n_outputs=1, n_trees=4, max_depth=4)
    fields = dict(ensemble.fields)
    fields["link"] = 1  # logistic
    ensemble = TreeEnsemble(fields, task="binary")
    background = random_rows(8, 5, m)
    X = random_rows(9, 3, m)
    explainer = TreeExplainer(ensemble, background, model_output="probability")
    got = explainer.shap_values(X)
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    for i, x in enumerate(X):
        fx = predict(model, x)[0]
        total = np.zeros(m)
        for r in background:
            phi, _ = shapley(_hybrid_game(model, x, r[None, :]), m)
            fr = predict(model, r)[0]
            total += phi[:, 0] * (sigmoid(fx) - sigmoid(fr)) / (fx - fr)
        np.testing.assert_allclose(got[i], total / len(background), atol=TOL, rtol=0)
        np.testing.assert_allclose(got[i].sum() + explainer.expected_value, sigmoid(fx), atol=1e-12)
