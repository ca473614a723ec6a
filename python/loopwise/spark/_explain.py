"""``loopwise.spark.explain``: explanations of a Spark DataFrame through ``mapInPandas``.

Only DataFrame operations are used (no ``sparkContext``, no RDDs, no broadcast variables):
the explainer travels as JSON inside the function Spark ships to its Python workers, so the
same call runs on classic Spark and on Spark Connect (Databricks serverless and standard
access mode). Each worker process rebuilds the explainer once and caches it.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

__all__ = ["explain"]


def _require_dataframe(df: Any) -> None:
    module = type(df).__module__
    if not module.startswith("pyspark.sql") or not hasattr(df, "mapInPandas"):
        raise TypeError(f"df must be a Spark DataFrame (classic or Spark Connect), got {type(df).__name__}")


def explain(
    df: Any,
    explainer: Any,
    *,
    columns: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    model: Any = None,
    n_jobs: Optional[int] = 1,
    **options: Any,
) -> Any:
    """Explain every row of a Spark DataFrame; the result is a Spark DataFrame (lazy).

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Classic or Spark Connect DataFrame holding the feature ``columns``.
    explainer : TreeExplainer, KernelExplainer, LimeTabular or str
        The explainer built on the driver (or its ``to_json()`` text): TreeSHAP
        path-dependent or interventional, KernelSHAP, LIME.
    columns : list of str, optional
        Feature columns in the explainer's order (default: its feature names).
    keep : list of str
        Id columns copied to the result, first.
    model : callable, optional
        LIME's ``predict_fn``; a KernelExplainer's model when ``explainer`` is JSON text.
        Spark ships it to the workers like any Python function it runs.
    n_jobs : int, optional
        Threads per task (default 1: Spark runs tasks in parallel).
    **options
        Explain options: ``check_additivity`` (Tree); ``nsamples``, ``l1_reg``, ``tol``
        (Kernel); ``num_features``, ``num_samples``, ``label`` (LIME).

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns, one double column per feature (``feature__output`` per output for
        several outputs) and ``base_value`` (LIME: weights, ``intercept``, ``score``,
        ``local_pred``). Each row equals the single-machine explainer's.

    Examples
    --------
    Needs a Spark session (``pip install loopwise[spark]`` and Java 17); the scale tests and
    ``notebooks/07_spark_local.ipynb`` run this:

    >>> from loopwise.explain import TreeExplainer
    >>> import loopwise.spark
    >>> values = loopwise.spark.explain(df, TreeExplainer(model), keep=["id"])  # doctest: +SKIP
    >>> values.columns[:2]  # doctest: +SKIP
    ['id', 'x0']
    """
    from pyspark.sql import types as T

    from ..explain._partition import explain_partition, plan_explain
    from ..explain._ship import ship

    _require_dataframe(df)
    shipment = ship(explainer, model)
    plan = plan_explain(shipment.text, columns, keep, options)
    present = set(df.columns)
    missing = [c for c in plan.keep + plan.columns if c not in present]
    if missing:
        raise ValueError(f"df lacks the columns {missing}; it has {df.columns}")
    schema = df.schema
    fields = [schema[c] for c in plan.keep] + [T.StructField(n, T.DoubleType(), True) for n in plan.value_names]
    text, fn, key, chosen = shipment.text, shipment.model, shipment.model_key, dict(plan.options)
    columns_, keep_ = list(plan.columns), list(plan.keep)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            yield explain_partition(
                batch, text, columns=columns_, keep=keep_, model=fn, model_key=key, n_jobs=n_jobs, **chosen
            )

    wanted = keep_ + [c for c in columns_ if c not in set(keep_)]
    return df.select(*wanted).mapInPandas(run, T.StructType(fields))
