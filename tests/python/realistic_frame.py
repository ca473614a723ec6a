"""A realistic user frame and the pipeline a new user would fit on it (seeded, no download).

Columns: ``city`` (strings with missing values), ``plan`` (pandas category), ``member``
(bool), ``signup`` (datetime with a missing value), ``visits`` (int), ``spend`` (float
with NaN), ``age`` (float). The model is the README's pipeline: one-hot encoding of the
categorical columns and scaling of the numeric ones inside a ColumnTransformer, then a
HistGradientBoostingClassifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CITIES = ["Paris", "Rome", "Oslo", "Lima", "Kyoto"]
PLANS = ["free", "basic", "pro"]


@dataclass
class Realistic:
    X: pd.DataFrame
    y: np.ndarray
    pipeline: Any  # fitted Pipeline([("prep", ColumnTransformer), ("model", HistGradientBoostingClassifier)])
    numeric: list
    categorical: list


def make_frame(n_rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The mixed-dtype frame and a binary target that depends on every kind of column."""
    rng = np.random.default_rng(seed)
    city = rng.choice(CITIES, n_rows).astype(object)
    city[rng.random(n_rows) < 0.05] = None
    plan = pd.Categorical(rng.choice(PLANS, n_rows), categories=PLANS)
    member = rng.random(n_rows) < 0.4
    days = rng.integers(0, 3 * 365, n_rows)
    signup = pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D"))
    signup[rng.random(n_rows) < 0.03] = pd.NaT
    visits = rng.poisson(4, n_rows).astype(np.int64)
    spend = rng.gamma(2.0, 30.0, n_rows)
    spend[rng.random(n_rows) < 0.08] = np.nan
    age = rng.normal(40, 12, n_rows).round(1)
    X = pd.DataFrame(
        {
            "city": pd.Series(city, dtype="str" if pd.__version__ >= "3" else object),
            "plan": plan,
            "member": member,
            "signup": signup,
            "visits": visits,
            "spend": spend,
            "age": age,
        }
    )
    score = (
        0.8 * (X["city"] == "Paris").to_numpy()
        - 0.6 * (X["city"] == "Oslo").to_numpy()
        + 0.9 * (plan == "pro")
        + 0.7 * member
        + 0.15 * (visits - 4)
        + 0.01 * np.nan_to_num(spend - 60.0)
        - 0.02 * (age - 40)
        + 0.001 * (days - 500)
    )
    y = (score + rng.logistic(size=n_rows) * 0.7 > 0.4).astype(int)
    return X, y


class DaysSince:
    """Datetime -> days since 2021-01-01 (a minimal sklearn transformer for the pipeline)."""

    def fit(self, X: Any, y: Any = None) -> "DaysSince":
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        start = pd.Timestamp("2021-01-01")
        return np.column_stack([(pd.to_datetime(X[c]) - start).dt.days.to_numpy(dtype=float, na_value=np.nan) for c in X.columns])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"{c}_days" for c in self.feature_names_in_], dtype=object)

    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **params: Any) -> "DaysSince":
        return self


def make_realistic(n_rows: int = 400, seed: int = 0) -> Realistic:
    """The frame, its target and the fitted pipeline."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = make_frame(n_rows, seed)
    numeric = ["visits", "spend", "age"]
    categorical = ["city", "plan", "member"]
    prep = ColumnTransformer(
        [
            ("onehot", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                     OneHotEncoder(handle_unknown="ignore", sparse_output=False)), ["city"]),
            ("cats", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["plan", "member"]),
            ("scale", StandardScaler(), numeric),
            ("time", DaysSince(), ["signup"]),
        ]
    )
    pipeline = Pipeline([("prep", prep), ("model", HistGradientBoostingClassifier(max_iter=60, random_state=seed))])
    pipeline.fit(X, y)
    return Realistic(X=X, y=y, pipeline=pipeline, numeric=numeric, categorical=categorical)


class RecordingModel:
    """Wraps a prediction function and records the type, columns and dtypes of each input."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.calls: list = []

    def __call__(self, X: Any) -> Any:
        self.calls.append((type(X), list(getattr(X, "columns", [])), list(getattr(X, "dtypes", []))))
        return self.function(X)
