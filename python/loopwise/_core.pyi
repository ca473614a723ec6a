"""Type stub of the compiled core (private; use the public loopwise API)."""

from typing import Any, overload

import numpy as np
import numpy.typing as npt

has_openmp: bool

class LoopwiseError(RuntimeError): ...

def hardware_threads() -> int: ...

class TreeEnsemble:
    def __init__(self, fields: dict[str, Any]) -> None: ...
    @overload
    def predict(self, X: npt.NDArray[np.float64], n_jobs: int) -> npt.NDArray[np.float64]: ...
    @overload
    def predict(self, X: npt.NDArray[np.float32], n_jobs: int) -> npt.NDArray[np.float64]: ...
    @overload
    def apply(self, X: npt.NDArray[np.float64], n_jobs: int) -> npt.NDArray[np.int32]: ...
    @overload
    def apply(self, X: npt.NDArray[np.float32], n_jobs: int) -> npt.NDArray[np.int32]: ...
    def transform(self, margins: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
    @property
    def n_trees(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def max_depth(self) -> int: ...
    @property
    def depths(self) -> list[int]: ...

# drift
def drift_sort_columns(X: npt.NDArray[np.float64], n_jobs: int) -> list[npt.NDArray[np.float64]]: ...
def drift_sort_rows(X: npt.NDArray[np.float64], n_jobs: int) -> list[npt.NDArray[np.float64]]: ...
def drift_sort_arrays(arrays: list[npt.NDArray[np.float64]], n_jobs: int) -> list[npt.NDArray[np.float64]]: ...
def drift_compare_numeric(
    reference: list[npt.NDArray[np.float64]],
    current: list[npt.NDArray[np.float64]],
    edges: list[list[float]],
    statistics: int,
    exact_ks_max_n: int,
    psi_epsilon: float,
    js_base: float,
    n_jobs: int,
) -> dict[str, npt.NDArray[np.float64]]: ...
def drift_ks_exact_pvalue(n: int, m: int, d: float) -> float: ...
def drift_cvm_exact_pvalue(u: float, n: int, m: int) -> float: ...
def drift_count_divergences(
    p: npt.NDArray[np.int64], q: npt.NDArray[np.int64], psi_epsilon: float, js_base: float
) -> tuple[float, float, float]: ...
def drift_mmd(
    X: npt.NDArray[np.float64], Y: npt.NDArray[np.float64], bandwidth: float, n_permutations: int, seed: int, n_jobs: int
) -> tuple[float, npt.NDArray[np.float64]]: ...

# streaming
class StreamDetector:
    def update(self, x: float) -> bool: ...
    def update_many(
        self, values: npt.NDArray[np.float64], with_warnings: bool
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def reset(self) -> None: ...
    @property
    def drift_detected(self) -> bool: ...
    @property
    def warning_detected(self) -> bool: ...
    def state(self) -> dict[str, list[float]]: ...
    def load(self, state: dict[str, list[float]]) -> None: ...

class StreamADWIN(StreamDetector):
    def __init__(self, delta: float, clock: int, max_buckets: int, min_window_length: int, grace_period: int) -> None: ...
    @property
    def width(self) -> float: ...
    @property
    def total(self) -> float: ...
    @property
    def variance(self) -> float: ...
    @property
    def n_detections(self) -> float: ...

class StreamPageHinkley(StreamDetector):
    def __init__(self, min_instances: int, delta: float, threshold: float, alpha: float, mode: int) -> None: ...

class StreamKSWIN(StreamDetector):
    def __init__(self, alpha: float, window_size: int, stat_size: int, seed_key: list[int], window: list[float]) -> None: ...
    @property
    def p_value(self) -> float: ...

class StreamDDM(StreamDetector):
    def __init__(self, warm_start: int, warning_threshold: float, drift_threshold: float) -> None: ...

class StreamEDDM(StreamDetector):
    def __init__(self, warm_start: int, alpha: float, beta: float) -> None: ...

class StreamHDDM_A(StreamDetector):
    def __init__(self, drift_confidence: float, warning_confidence: float, two_sided_test: bool) -> None: ...

class StreamHDDM_W(StreamDetector):
    def __init__(self, drift_confidence: float, warning_confidence: float, lambda_val: float, two_sided_test: bool) -> None: ...

# learn
def learn_linear(
    config: dict[str, Any],
    state: dict[str, Any],
    n_outputs: int,
    n_features: int,
    n_classes: int,
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None,
    order: npt.NDArray[np.int64] | None,
) -> None: ...
def learn_rls(
    theta: npt.NDArray[np.float64],
    P: npt.NDArray[np.float64],
    fit_intercept: bool,
    forgetting: float,
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None,
) -> None: ...
# agnostic
class KernelDesign:
    def __init__(self, n_features: int, budget: int, seed: int) -> None: ...
    @property
    def masks(self) -> npt.NDArray[np.uint8]: ...
    @property
    def n_features(self) -> int: ...
    @property
    def n_masks(self) -> int: ...
    @property
    def n_enumerated(self) -> int: ...
    @property
    def sampled_weight(self) -> float: ...
    @property
    def n_pairs(self) -> int: ...
    @property
    def enumerated_weights(self) -> list[float]: ...
    @property
    def pairs(self) -> list[int]: ...
    @property
    def masks_needed(self) -> list[int]: ...
    def solve(
        self,
        n_pairs: int,
        values: npt.NDArray[np.float64],
        base: npt.NDArray[np.float64],
        full: npt.NDArray[np.float64],
        n_jobs: int,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

class PermutationDesign:
    def __init__(self, n_features: int, n_pairs: int, seed: int) -> None: ...
    @property
    def masks(self) -> npt.NDArray[np.uint8]: ...
    @property
    def n_permutations(self) -> int: ...
    @property
    def n_masks(self) -> int: ...
    @property
    def orders(self) -> list[int]: ...
    def solve(
        self, values: npt.NDArray[np.float64], n_jobs: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

def exact_shapley(values: npt.NDArray[np.float64], n_features: int, n_jobs: int) -> npt.NDArray[np.float64]: ...
@overload
def coalition_rows(
    X: npt.NDArray[np.float64],
    background: npt.NDArray[np.float64],
    masks: npt.NDArray[np.uint8],
    begin: int,
    end: int,
    n_jobs: int,
    out: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]: ...
@overload
def coalition_rows(
    X: npt.NDArray[np.float32],
    background: npt.NDArray[np.float32],
    masks: npt.NDArray[np.uint8],
    begin: int,
    end: int,
    n_jobs: int,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]: ...

class LimeFeature:
    def __init__(self, fields: dict[str, Any]) -> None: ...

def lime_sample(
    features: list[LimeFeature],
    row: npt.NDArray[np.float64],
    row_category: npt.NDArray[np.float64],
    n: int,
    around_instance: bool,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def weighted_ridge(
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    used: list[int],
    alpha: float,
) -> tuple[float, list[float], float, float]: ...
def lime_select(
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    num_features: int,
    forward: bool,
) -> list[int]: ...
def normal_quantile(p: float) -> float: ...
@overload
def tree_coalition_values(
    ensemble: TreeEnsemble,
    X: npt.NDArray[np.float64],
    background: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    masks: npt.NDArray[np.uint8],
    n_jobs: int,
) -> npt.NDArray[np.float64]: ...
@overload
def tree_coalition_values(
    ensemble: TreeEnsemble,
    X: npt.NDArray[np.float32],
    background: npt.NDArray[np.float32],
    weights: npt.NDArray[np.float64],
    masks: npt.NDArray[np.uint8],
    n_jobs: int,
) -> npt.NDArray[np.float64]: ...
