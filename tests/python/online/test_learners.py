"""Online learners: equality with a plain-Python reference loop, RLS = ridge, accuracy vs
scikit-learn, prox/churn, growing classes, serialisation and bad inputs."""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression

from loopwise.online import RLSRegressor, SGDClassifier, SGDRegressor, churn


# ------------------------------------------------------------------ reference loop
def reference_loop(X, y, *, n_classes, loss, optimizer, eta0, schedule="constant", power_t=0.5, alpha=0.0,
                   l1=0.0, standardize=False, class_weight=None, sample_weight=None, huber=1.0, prox=0.0,
                   anchor=None, order=None, beta1=0.9, beta2=0.999, eps=1e-8):
    """The algorithm of the C++ core written as a plain per-sample Python loop."""
    n, d = X.shape
    K = 1 if (n_classes in (0, 2)) else n_classes
    W = [[0.0] * d for _ in range(K)]
    b = [0.0] * K
    m = [[0.0] * (d + 1) for _ in range(K)]
    v = [[0.0] * (d + 1) for _ in range(K)]
    mean, m2, count = [0.0] * d, [0.0] * d, 0.0
    counts = [0.0] * max(n_classes, 0)
    t = 0.0

    def step(p, g, mm, vv, lr, t1):
        if optimizer == "sgd":
            return p - lr * g, mm, vv
        if optimizer == "adagrad":
            vv = vv + g * g
            return p - lr * g / (math.sqrt(vv) + eps), mm, vv
        mm = beta1 * mm + (1 - beta1) * g
        vv = beta2 * vv + (1 - beta2) * g * g
        return p - lr * (mm / (1 - beta1 ** t1)) / (math.sqrt(vv / (1 - beta2 ** t1)) + eps), mm, vv

    for i in (range(n) if order is None else order):
        x = [float(X[i, j]) for j in range(d)]
        if standardize:
            count += 1
            z = []
            for j in range(d):
                delta = x[j] - mean[j]
                mean[j] += delta / count
                m2[j] += delta * (x[j] - mean[j])
                var = m2[j] / count
                z.append((x[j] - mean[j]) / math.sqrt(var) if var > 0 else 0.0)
        else:
            z = x
        out = [b[k] + sum(W[k][j] * z[j] for j in range(d)) for k in range(K)]
        w = 1.0 if sample_weight is None else float(sample_weight[i])
        label = int(y[i]) if n_classes else 0
        if class_weight is not None:
            counts[label] += 1
            w *= sum(counts) / (n_classes * counts[label]) if class_weight == "balanced" else class_weight[label]
        if loss == "log_loss":
            if K == 1:
                g = [1 / (1 + math.exp(-out[0])) - (label == 1)]
            else:
                top = max(out)
                e = [math.exp(o - top) for o in out]
                g = [e[k] / sum(e) - (k == label) for k in range(K)]
        elif loss == "hinge":
            signs = [1.0 if (label == 1 if K == 1 else label == k) else -1.0 for k in range(K)]
            g = [-s if s * o < 1 else 0.0 for s, o in zip(signs, out)]
        elif loss == "squared_error":
            g = [out[0] - y[i]]
        else:
            r = out[0] - y[i]
            g = [r if abs(r) <= huber else math.copysign(huber, r)]
        lr = eta0 if schedule == "constant" else eta0 / (t + 1) ** power_t
        t1 = t + 1
        for k in range(K):
            gk = w * g[k]
            for j in range(d):
                grad = gk * z[j] + alpha * W[k][j]
                if prox:
                    grad += 2 * prox * (W[k][j] - anchor[0][k][j])
                W[k][j], m[k][j], v[k][j] = step(W[k][j], grad, m[k][j], v[k][j], lr, t1)
                if l1:
                    W[k][j] = max(W[k][j] - lr * l1, 0.0) if W[k][j] > 0 else min(W[k][j] + lr * l1, 0.0)
            grad = gk + (2 * prox * (b[k] - anchor[1][k]) if prox else 0.0)
            b[k], m[k][d], v[k][d] = step(b[k], grad, m[k][d], v[k][d], lr, t1)
        t = t1
    return np.array(W), np.array(b)


def _data(n=300, d=4, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, d) + rng.normal(size=d)
    y = rng.integers(0, classes, n) if classes else X @ rng.normal(size=d) + rng.normal(size=n)
    return X, y


SETTINGS = [
    dict(loss="log_loss", optimizer="sgd", eta0=0.05),
    dict(loss="log_loss", optimizer="adam", eta0=0.02, standardize=True, alpha=1e-3),
    dict(loss="log_loss", optimizer="adagrad", eta0=0.1, schedule="invscaling", l1=1e-3, class_weight="balanced"),
    dict(loss="hinge", optimizer="sgd", eta0=0.01, alpha=1e-4, standardize=True),
    dict(loss="log_loss", optimizer="adam", eta0=0.01, classes=3, class_weight="balanced", sample_weight=True),
    dict(loss="hinge", optimizer="adagrad", eta0=0.05, classes=4),
    dict(loss="squared_error", optimizer="sgd", eta0=0.005, classes=0, sample_weight=True),
    dict(loss="huber", optimizer="adam", eta0=0.05, classes=0, standardize=True, huber=0.5, l1=1e-2),
    dict(loss="squared_error", optimizer="adagrad", eta0=0.1, classes=0, schedule="invscaling", power_t=0.25),
]


@pytest.mark.parametrize("setting", SETTINGS, ids=[f"{s['loss']}-{s['optimizer']}-{i}" for i, s in enumerate(SETTINGS)])
def test_sequential_updates_match_the_reference_loop(setting):
    setting = dict(setting)
    classes = setting.pop("classes", 2)
    use_weights = setting.pop("sample_weight", False)
    X, y = _data(classes=classes, seed=len(setting))
    weights = np.random.default_rng(1).uniform(0.2, 2.0, len(X)) if use_weights else None
    params = dict(optimizer=setting["optimizer"], eta0=setting["eta0"], learning_rate=setting.get("schedule", "constant"),
                  power_t=setting.get("power_t", 0.5), alpha=setting.get("alpha", 0.0), l1=setting.get("l1", 0.0),
                  standardize=setting.get("standardize", False), loss=setting["loss"])
    if classes:
        model = SGDClassifier(class_weight=setting.get("class_weight"), **params)
    else:
        model = SGDRegressor(epsilon=setting.get("huber", 1.0), **params)
    # Two partial_fit calls: state carries over between batches exactly.
    model.partial_fit(X[:120], y[:120], sample_weight=None if weights is None else weights[:120])
    model.partial_fit(X[120:], y[120:], sample_weight=None if weights is None else weights[120:])
    W, b = reference_loop(X, y, n_classes=classes, sample_weight=weights, **setting)
    np.testing.assert_allclose(model._state["coef"], W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model._state["intercept"], b, rtol=1e-12, atol=1e-12)


def test_fit_epochs_follow_the_seeded_shuffles_and_prox_pulls_to_the_anchor():
    X, y = _data(n=150, classes=2, seed=3)
    anchor = SGDClassifier(eta0=0.1, max_iter=1, shuffle=False).fit(X, 1 - y)
    model = SGDClassifier(eta0=0.05, max_iter=3, random_state=7, prox=0.5, anchor=anchor).fit(X, y)
    # Reference: epochs over the same seeded permutations, continuing one state.
    orders = [np.random.default_rng([7, e]).permutation(len(X)) for e in range(3)]
    Xr, yr = np.vstack([X[o] for o in orders]), np.concatenate([y[o] for o in orders])
    W, b = reference_loop(Xr, yr, n_classes=2, loss="log_loss", optimizer="sgd", eta0=0.05, alpha=1e-4, prox=0.5,
                          anchor=(anchor._state["coef"], anchor._state["intercept"]))
    np.testing.assert_allclose(model._state["coef"], W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model._state["intercept"], b, rtol=1e-12, atol=1e-12)
    again = SGDClassifier(eta0=0.05, max_iter=3, random_state=7, prox=0.5, anchor=anchor).fit(X, y)
    assert np.array_equal(again._state["coef"], model._state["coef"])


@pytest.mark.parametrize("forgetting", [1.0, 0.97])
def test_rls_equals_weighted_ridge(forgetting):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5) + 2.0 + rng.normal(scale=0.1, size=400)
    w = rng.uniform(0.5, 2.0, 400)
    alpha = 0.7
    model = RLSRegressor(forgetting=forgetting, alpha=alpha).fit(X[:250], y[:250], sample_weight=w[:250])
    model.partial_fit(X[250:], y[250:], sample_weight=w[250:])
    A = np.column_stack([X, np.ones(len(X))])
    fade = forgetting ** np.arange(len(X) - 1, -1, -1) * w
    theta = np.linalg.solve(A.T @ (fade[:, None] * A) + forgetting ** len(X) * alpha * np.eye(6), A.T @ (fade * y))
    np.testing.assert_allclose(model.coef_, theta[:5], rtol=1e-8, atol=1e-10)
    assert model.intercept_ == pytest.approx(theta[5], rel=1e-8)
    no_intercept = RLSRegressor(alpha=alpha, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(no_intercept.coef_, np.linalg.solve(X.T @ X + alpha * np.eye(5), X.T @ y), rtol=1e-8)


def test_accuracy_matches_sklearn_sgd_on_the_same_stream():
    from sklearn.linear_model import SGDClassifier as SkSGD

    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=6, flip_y=0.01, random_state=0)
    train, test = slice(0, 15_000), slice(15_000, None)
    ours = SGDClassifier(eta0=0.01, alpha=1e-4)
    theirs = SkSGD(loss="log_loss", learning_rate="constant", eta0=0.01, alpha=1e-4, shuffle=False,
                   random_state=0)
    for start in range(0, 15_000, 1000):
        batch = slice(start, start + 1000)
        ours.partial_fit(X[train][batch], y[train][batch], classes=[0, 1])
        theirs.partial_fit(X[train][batch], y[train][batch], classes=[0, 1])
    assert abs(ours.score(X[test], y[test]) - theirs.score(X[test], y[test])) <= 0.005


def test_churn_shrinks_as_prox_grows():
    X, y = make_classification(n_samples=4000, n_features=10, random_state=1)
    champion = SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, random_state=0).fit(X[:2000], y[:2000])
    drifted = np.where(X[2000:, 0] > 0, 1 - y[2000:], y[2000:])
    churns = []
    for prox in (0.0, 0.01, 0.1, 1.0):
        model = copy.deepcopy(champion).set_params(prox=prox, anchor=champion)
        model.partial_fit(X[2000:], drifted)
        churns.append(churn(champion, model, X))
    assert churns == sorted(churns, reverse=True) and churns[-1] < churns[0] / 3


def test_classes_grow_only_when_declared():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    model = SGDClassifier(eta0=0.1).partial_fit(X, y)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="classes not seen before: \\[2\\]"):
        model.partial_fit(X[:5], [0, 1, 2, 0, 1])
    model.partial_fit(X[:0], y[:0], classes=[0, 1, 2])  # declare only
    assert model.classes_.tolist() == [0, 1, 2] and model.coef_.shape == (3, 3)
    # The binary model becomes the equivalent softmax; the new class starts at zero weight.
    after = model.predict_proba(X)
    np.testing.assert_allclose(after[:, 1] / (after[:, 0] + after[:, 1]), before[:, 1], rtol=1e-12)
    X2 = rng.normal(size=(300, 3)) + [0, 0, 3]
    model.partial_fit(X2, np.full(300, 2))
    assert (model.predict(X2) == 2).mean() > 0.9
    with pytest.raises(ValueError, match="must include every known class"):
        model.partial_fit(X[:2], y[:2], classes=[0, 1])


def test_dataframes_pickle_deepcopy_and_json():
    X, y = make_classification(n_samples=500, n_features=5, random_state=2)
    frame = pd.DataFrame(X, columns=list("abcde"))
    labels = np.array(["no", "yes"])[y]
    model = SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, max_iter=5, class_weight={"yes": 2.0}, random_state=0)
    model.fit(frame, labels, sample_weight=None)
    assert model.feature_names_in_.tolist() == list("abcde")
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model),
                  SGDClassifier.from_dict(json.loads(json.dumps(model.to_dict())))):
        np.testing.assert_array_equal(other.predict_proba(frame), model.predict_proba(frame))
        other.partial_fit(frame[:50], labels[:50])
    model.set_params(prox=0.1, anchor=copy.deepcopy(model))
    restored = SGDClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    model.partial_fit(frame[:50], labels[:50])
    restored.partial_fit(frame[:50], labels[:50])
    np.testing.assert_array_equal(restored.coef_, model.coef_)
    regressor = SGDRegressor(loss="huber").fit(*make_regression(n_samples=200, n_features=3, random_state=0))
    again = SGDRegressor.from_dict(json.loads(json.dumps(regressor.to_dict())))
    np.testing.assert_array_equal(again.coef_, regressor.coef_)
    rls = RLSRegressor(forgetting=0.99).fit(frame, X @ np.arange(5))
    np.testing.assert_allclose(RLSRegressor.from_dict(json.loads(json.dumps(rls.to_dict()))).predict(frame),
                               pickle.loads(pickle.dumps(rls)).predict(frame))


def test_coef_in_input_units_reproduce_predictions():
    X, y = _data(n=500, classes=3, seed=6)
    model = SGDClassifier(optimizer="adam", eta0=0.05, standardize=True, random_state=0).fit(X, y)
    np.testing.assert_allclose(X @ model.coef_.T + model.intercept_, model.decision_function(X), rtol=1e-9, atol=1e-9)


def test_bad_inputs_name_the_argument():
    X, y = _data(n=50, classes=2)
    with pytest.raises(ValueError, match="optimizer"):
        SGDClassifier(optimizer="rmsprop").fit(X, y)
    with pytest.raises(ValueError, match="eta0"):
        SGDClassifier(eta0=0).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        SGDClassifier(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        SGDClassifier(class_weight="auto").fit(X, y)
    with pytest.raises(ValueError, match="NaN|nan|infinity"):
        SGDClassifier().fit(np.where(X > 1, np.nan, X), y)
    model = SGDClassifier().fit(X, y)
    before = copy.deepcopy(model._state)
    bad = X.copy()
    bad[30, 1] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinity \(row 30\)"):
        model.partial_fit(bad, y)
    for key, value in before.items():  # a rejected batch leaves no trace
        np.testing.assert_array_equal(model._state[key], value)
    with pytest.raises(ValueError, match="Unknown label type"):
        model.partial_fit(X, y + 0.5)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="sample_weight"):
        model.partial_fit(X, y, sample_weight=np.full(len(X), -1.0))
    with pytest.raises(ValueError, match="sample_weight"):
        model.partial_fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="anchor"):
        SGDClassifier(prox=0.1).fit(X, y)
    with pytest.raises(ValueError, match="anchor weights have shape"):
        SGDClassifier(prox=0.1, anchor=np.zeros(7)).fit(X, y)
    with pytest.raises(TypeError, match="anchor"):
        SGDClassifier(prox=0.1, anchor=object()).fit(X, y)
    with pytest.raises(ValueError, match="at least two classes"):
        SGDClassifier().partial_fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="forgetting"):
        RLSRegressor(forgetting=1.5).fit(X, y)
    with pytest.raises(TypeError, match="max_iter"):
        SGDRegressor(max_iter=2.5).fit(X, y)
    with pytest.raises(ValueError, match="to_dict"):
        SGDClassifier.from_dict({"x": 1})


def test_loop_policies_use_the_learners():
    from sklearn.ensemble import GradientBoostingClassifier

    from loopwise.loop.policy import Incremental, RefreshLeaves

    X, y = make_classification(n_samples=1000, n_features=6, random_state=3)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    champion = SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, max_iter=5, random_state=0).fit(frame, y)
    challenger = Incremental(prox=0.1)(champion, frame[:300], y[:300], np.ones(300))
    assert challenger is not champion and challenger.anchor is champion
    assert churn(champion, challenger, frame) < 0.2
    trees = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, y)
    refreshed = RefreshLeaves(decay=0.5)(trees, frame, y, np.ones(len(y)))
    assert refreshed.predict_proba(frame).shape == (1000, 2)
