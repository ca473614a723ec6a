"""Model performance estimated without labels.

- :class:`CBPE` (classifiers): the model's probabilities, corrected on the labelled reference
  by isotonic calibration, give the expected confusion matrix and from it accuracy, precision,
  recall, F1 and ROC AUC.
- :class:`DLE` (regressors): a nanny model trained on the reference predicts each row's
  absolute and squared error; their means are the estimated MAE and RMSE.

Each estimate comes with its sampling error for the chunk's size. Both assume covariate shift
only: when the relation between inputs and labels changes (concept drift), only labels tell.
"""

from .cbpe import CBPE, CLASSIFICATION_METRICS
from .dle import DLE, REGRESSION_METRICS

__all__ = ["CBPE", "CLASSIFICATION_METRICS", "DLE", "REGRESSION_METRICS"]
