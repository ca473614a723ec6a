"""Bias mitigation for the loop's retraining: reweighing, per-group thresholds, a before/after report.

- :func:`reweighing_weights` and the retrainer :class:`Reweigh` (Kamiran & Calders): weights
  that make label and group independent, multiplied into the loop's selection weights.
- :class:`GroupThresholdClassifier` (Hardt et al.): per-group randomised thresholds for
  equalised odds or demographic parity, applied at predict time; saved by the registry.
- :func:`fairness_report`: accuracy and the gaps per model and per group, with the loop's own
  gap definition.

Examples
--------
>>> from loopwise.fairness import reweighing_weights
>>> reweighing_weights(["a", "b"], [1, 0]).tolist()
[0.5, 0.5]
"""

from ._data import make_biased_classification
from ._report import FairnessReport, equalized_odds_gap, fairness_report
from ._reweighing import Reweigh, reweighing_weights
from ._thresholds import GroupThresholdClassifier

__all__ = ["GroupThresholdClassifier", "Reweigh", "reweighing_weights", "fairness_report", "FairnessReport",
           "equalized_odds_gap", "make_biased_classification"]
