"""``loopwise.dask.explain``: explanations of a Dask DataFrame through ``map_partitions``."""

from __future__ import annotations

from typing import Any, Optional, Sequence

__all__ = ["explain"]


def explain(
    ddf: Any,
    explainer: Any,
    *,
    columns: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    model: Any = None,
    n_jobs: Optional[int] = 1,
    **options: Any,
) -> Any:
    """Explain every row of a Dask DataFrame; the result is a Dask DataFrame (lazy).

    Arguments and result columns are those of :func:`loopwise.spark.explain`; the result
    keeps ``ddf``'s index and divisions, and each row equals the single-machine explainer's.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from loopwise.explain import TreeExplainer
    >>> X = pd.DataFrame({"a": [0.0, 0.0, 1.0, 1.0], "b": [0.0, 1.0, 0.0, 1.0]})
    >>> tree = DecisionTreeRegressor(max_depth=2).fit(X, [0, 1, 2, 3])
    >>> ddf = dd.from_pandas(X.assign(id=range(4)), npartitions=2)
    >>> explain(ddf, TreeExplainer(tree), keep=["id"]).compute(scheduler="sync")["b"].tolist()
    [-0.5, 0.5, -0.5, 0.5]
    """
    import numpy as np
    import pandas as pd

    from ..explain._partition import explain_partition, plan_explain
    from ..explain._ship import ship

    if not (hasattr(ddf, "map_partitions") and hasattr(ddf, "_meta") and hasattr(ddf, "columns")):
        raise TypeError(f"ddf must be a Dask DataFrame, got {type(ddf).__name__}")
    shipment = ship(explainer, model)
    plan = plan_explain(shipment.text, columns, keep, options)
    missing = [c for c in plan.keep + plan.columns if c not in set(ddf.columns)]
    if missing:
        raise ValueError(f"ddf lacks the columns {missing}; it has {list(ddf.columns)}")
    meta = ddf._meta.loc[:, plan.keep].copy() if plan.keep else pd.DataFrame(index=ddf._meta.index)
    meta = pd.concat([meta, pd.DataFrame(np.empty((0, len(plan.value_names))), index=meta.index, columns=plan.value_names)], axis=1)
    wanted = plan.keep + [c for c in plan.columns if c not in set(plan.keep)]
    return ddf[wanted].map_partitions(
        explain_partition, shipment.text, columns=plan.columns, keep=plan.keep, model=shipment.model,
        model_key=shipment.model_key, n_jobs=n_jobs, meta=meta, **plan.options,
    )
