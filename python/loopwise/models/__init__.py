"""Model adapters: scikit-learn, XGBoost and LightGBM trees become a ``TreeEnsemble``."""

from .tree_ensemble import TreeEnsemble

__all__ = ["TreeEnsemble"]
