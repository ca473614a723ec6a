"""Model cards: written by the loop, valid against the published schema, numbers checked
against independent oracles (statsmodels' Wilson interval, shap's TreeSHAP, scikit-learn per
group), rendered by headless Chromium with no network."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from loopwise.fairness import GroupThresholdClassifier, make_biased_classification
from loopwise.loop import FeedbackLoop, ModelRegistry, Policy, Refit, SlidingWindow
from loopwise.loop.cards import _TREE_ROWS, build_card, card_paths, card_schema, wilson_interval
from loopwise.loop.policy import LabelCountTrigger
from needs import need  # tests/python is on sys.path (conftest.py)


def _validate(card: dict) -> None:
    jsonschema = need("jsonschema")
    jsonschema.validate(card, card_schema())


def _pipeline():
    return make_pipeline(make_column_transformer(("passthrough", ["x0", "x1", "x2", "x3"]),
                                                 (OneHotEncoder(), ["group"])), LogisticRegression())


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory):
    """A loop whose fair challenger (per-group thresholds) replaces a biased champion."""
    folder = tmp_path_factory.mktemp("cards")
    X, y = make_biased_classification(3400, random_state=11)
    X["region"] = np.where(X["x3"] > 0, "north", "south")
    stamps = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(len(y)), unit="min")
    champion = _pipeline().fit(X.iloc[:400], y[:400])

    def fair(X_, y_, w):
        return GroupThresholdClassifier(_pipeline(), sensitive="group").fit(X_, y_, w)

    policy = Policy(triggers=[LabelCountTrigger(n=1000)], selection=SlidingWindow(n_rows=2000),
                    retrain=Refit(train_fn=fair), validation_rows=1000, min_labels=1000, refit_with_holdout=False,
                    gate={"require_significance": False, "min_gain": -0.03, "fairness_tolerance": 0.0})
    loop = FeedbackLoop(folder / "loop", model=champion, reference=X.iloc[:400], reference_labels=y[:400],
                        policy=policy, sensitive=["group"], slices=["region"])
    actions = []
    for start in range(400, len(y), 500):
        rows = slice(start, start + 500)
        ids = [str(i) for i in range(start, min(start + 500, len(y)))]
        loop.predict(X.iloc[rows], ids=ids, timestamp=stamps[rows])
        loop.feedback(ids, y[rows])
        actions.append(loop.step()["action"])
    report = loop.report(folder / "report.html")
    card_html = loop.champion_card_path()
    yield {"loop": loop, "actions": actions, "report": report, "card_html": card_html, "X": X, "y": y}
    loop.close()


def test_the_loop_writes_a_valid_card_for_every_version(loop_run):
    loop = loop_run["loop"]
    assert "promoted" in loop_run["actions"], loop_run["actions"]
    versions = loop.registry.versions()["version"].astype(int).tolist()
    assert len(versions) >= 2
    for version in versions:
        json_path, html_path = card_paths(loop.registry.path, version)
        assert os.path.exists(json_path) and os.path.exists(html_path)
        card = loop.registry.card(version).to_dict()
        _validate(card)
        assert card["version"] == version
    champion = loop.registry.card("champion").to_dict()
    assert champion["model"]["class"].endswith("GroupThresholdClassifier")
    lineage = champion["lineage"]
    assert lineage["parent"] == 1 and lineage["gate"]["passed"] and lineage["reasons"]
    assert lineage["promotions"] and lineage["promotions"][-1]["alias"] == "champion"
    assert champion["data"]["n_rows"] == champion["data"]["window"]["rows"] > 0
    assert champion["explanation"]["method"].startswith("KernelSHAP")
    assert {f["feature"] for f in champion["explanation"]["features"]} == {"x0", "x1", "x2", "x3", "group", "region"}
    assert "columns" in champion["drift"] and champion["drift"]["n_reference"] == 400
    # The gate's fairness rule held: the card's gaps are below the parent's.
    gaps = {g["gap"]: g["value"] for g in champion["groups"]["gaps"]}
    parent_gaps = {g["gap"]: g["value"] for g in loop.registry.card(1).to_dict()["groups"]["gaps"]}
    assert gaps["tpr"] < parent_gaps["tpr"] and gaps["fpr"] < parent_gaps["fpr"]


def test_card_numbers_match_independent_oracles(loop_run, tmp_path):
    loop = loop_run["loop"]
    accuracy = loop.registry.card("champion").to_dict()["holdout"]["metrics"][0]
    proportion_confint = need("statsmodels.stats.proportion").proportion_confint
    low, high = proportion_confint(round(accuracy["value"] * accuracy["n"]), accuracy["n"], alpha=0.05, method="wilson")
    assert (accuracy["ci_low"], accuracy["ci_high"]) == pytest.approx((low, high), abs=1e-9)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)

    # Per-group accuracy, rates and gaps on a known holdout: scikit-learn and fairlearn's MetricFrame.
    metrics = need("fairlearn.metrics")
    X, y = make_biased_classification(3000, random_state=2)
    X_hold, y_hold = make_biased_classification(2000, random_state=3)
    model = _pipeline().fit(X, y)
    registry = ModelRegistry(tmp_path / "registry")
    card = build_card(registry, registry.register(model), model, X_hold, y_hold, sensitive=["group"])
    _validate(card)
    predicted = model.predict(X_hold)
    frame = metrics.MetricFrame(metrics={"accuracy": accuracy_score, "selection_rate": metrics.selection_rate,
                                         "tpr": metrics.true_positive_rate, "fpr": metrics.false_positive_rate},
                                y_true=y_hold, y_pred=predicted, sensitive_features=X_hold["group"])
    for row in card["groups"]["rows"]:
        expected = frame.by_group.loc[row["group"]]
        assert row["value"] == pytest.approx(expected["accuracy"])
        for rate in ("selection_rate", "tpr", "fpr"):
            assert row[rate] == pytest.approx(expected[rate])
    spread = frame.difference(method="between_groups")
    gaps = {g["gap"]: g["value"] for g in card["groups"]["gaps"]}
    assert gaps == pytest.approx({"demographic_parity": spread["selection_rate"], "tpr": spread["tpr"],
                                  "fpr": spread["fpr"]})
    registry.close()


def test_treeshap_importance_matches_shap_and_per_group_metrics_match_sklearn(tmp_path):
    shap = need("shap")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 4)), columns=["a", "b", "c", "d"])
    X["segment"] = np.where(rng.random(600) < 0.4, "s1", "s2")
    y = 2 * X["a"] - X["b"] + 0.5 * X["c"] + rng.normal(scale=0.3, size=600)
    numeric = X[["a", "b", "c", "d"]]
    model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(numeric, y)
    registry = ModelRegistry(tmp_path / "registry")
    version = registry.register(model, data_window={"rows": 600})
    card = build_card(registry, version, model, numeric, y.to_numpy(), slices=["segment"], group_frame=X)
    _validate(card)
    assert card["explanation"]["method"].startswith("TreeSHAP")
    expected = np.abs(shap.TreeExplainer(model).shap_values(numeric.iloc[:_TREE_ROWS])).mean(axis=0)
    got = {f["feature"]: f["mean_abs_shap"] for f in card["explanation"]["features"]}
    np.testing.assert_allclose([got[c] for c in numeric.columns], expected, rtol=1e-6, atol=1e-9)
    names = [m["name"] for m in card["holdout"]["metrics"]]
    assert names == ["rmse", "mae"]
    rmse = card["holdout"]["metrics"][0]
    assert rmse["ci_low"] <= rmse["value"] <= rmse["ci_high"]
    prediction = model.predict(numeric)
    for row in card["slices"]:
        member = (X["segment"] == row["group"]).to_numpy()
        assert row["value"] == pytest.approx(np.sqrt(np.mean((y[member] - prediction[member]) ** 2)))
    registry.close()


def test_linear_models_get_exact_linear_shap(tmp_path):
    X, y = make_biased_classification(1500, random_state=6)
    numeric = X[["x0", "x1", "x2", "x3"]]
    model = LogisticRegression().fit(numeric, y)
    registry = ModelRegistry(tmp_path / "registry")
    card = build_card(registry, registry.register(model), model, numeric, y)
    _validate(card)
    assert card["explanation"]["method"].startswith("exact linear SHAP")
    # Interventional SHAP of a linear margin: w_j (x_j - mean_j), averaged in absolute value.
    expected = np.abs(model.coef_[0] * (numeric - numeric.mean()).to_numpy()).mean(axis=0)
    got = {f["feature"]: f["mean_abs_shap"] for f in card["explanation"]["features"]}
    np.testing.assert_allclose([got[c] for c in numeric.columns], expected, rtol=1e-9)
    registry.close()


def test_a_version_registered_without_the_loop_gets_a_metadata_card(tmp_path):
    registry = ModelRegistry(tmp_path / "registry")
    X, y = make_biased_classification(300, random_state=0)
    version = registry.register(LogisticRegression().fit(X[["x0", "x1"]], y))
    registry.promote(version, reason="by hand")
    card = registry.card(version).to_dict()
    _validate(card)
    assert card["holdout"]["metrics"] == [] and "unavailable" in card["explanation"]
    assert card["lineage"]["promotions"][0]["reason"] == "by hand"
    saved = registry.card(version).save(tmp_path / "card.json")
    assert json.loads(Path(saved).read_text())["version"] == version
    registry.close()


def test_card_html_is_self_contained_and_renders(loop_run):
    html_path = Path(loop_run["card_html"])
    text = html_path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text), "a card must not fetch anything"
    assert "<script" not in text and "<link" not in text
    # The loop's report links to the champion's card, by a relative path that resolves.
    report = Path(loop_run["report"]).read_text(encoding="utf-8")
    links = re.findall(r"href='([^']+\.html)'", report)
    assert links and (Path(loop_run["report"]).parent / links[0]).resolve() == html_path.resolve()
    from test_reports_visual import _check, _look

    _check(_look(html_path, "model_card"), min_images=2)


def test_a_candidate_promoted_by_hand_gets_its_card(tmp_path):
    X, y = make_biased_classification(1600, random_state=8)
    stamps = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(len(y)), unit="min")
    policy = Policy(selection=SlidingWindow(n_rows=1200), validation_rows=None, min_labels=200)
    loop = FeedbackLoop(tmp_path / "loop", model=_pipeline().fit(X.iloc[:300], y[:300]), reference=X.iloc[:300],
                        reference_labels=y[:300], policy=policy, sensitive=["group"])
    ids = [str(i) for i in range(300, len(y))]
    loop.predict(X.iloc[300:], ids=ids, timestamp=stamps[300:])
    loop.feedback(ids, y[300:])
    candidate = loop.train_challenger(["by hand"])["challenger"]
    version = loop.promote(candidate, reason="reviewed by a person")
    card = loop.registry.card(version).to_dict()
    _validate(card)
    assert card["holdout"]["n"] > 0 and card["groups"]["rows"]
    assert card["lineage"]["promotions"][-1]["reason"] == "reviewed by a person"
    loop.close()
