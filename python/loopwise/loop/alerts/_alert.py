"""``Alert``: one finding of the loop that someone may need to hear about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["Alert", "SEVERITIES", "severity_rank"]

#: Severities, least to most urgent. A sink delivers alerts at or above its ``min_severity``.
SEVERITIES = ("info", "warning", "critical")


def severity_rank(severity: str, where: str = "severity") -> int:
    """Position of ``severity`` in :data:`SEVERITIES` (raises a clear error for others).

    Examples
    --------
    >>> severity_rank("critical") > severity_rank("warning")
    True
    """
    if severity not in SEVERITIES:
        raise ValueError(f"{where} must be one of {list(SEVERITIES)}, got {severity!r}")
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Alert:
    """One finding: what kind, how urgent, which incident it belongs to, and the words.

    Parameters
    ----------
    kind : str
        Machine-readable kind (``"input_drift"``, ``"prediction_drift"``,
        ``"performance_drop"``, ``"error_rate_change"``, ...).
    message : str
        The finding in words (what :attr:`Status.alerts` lists).
    severity : {"info", "warning", "critical"}
    key : str, optional
        Incident key: alerts with the same key are one incident, delivered once per
        cool-down by each sink. Defaults to ``kind``, so a drift that persists for many
        batches is one incident however its numbers move.
    details : dict, optional
        JSON-like numbers behind the finding.

    Examples
    --------
    >>> Alert("input_drift", "input drift: 40% of columns drifted", "warning").key
    'input_drift'
    """

    kind: str
    message: str
    severity: str = "warning"
    key: Optional[str] = None
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"kind must be a non-empty str, got {self.kind!r}")
        if not isinstance(self.message, str):
            raise TypeError(f"message must be a str, got {type(self.message).__name__}")
        severity_rank(self.severity)
        if self.key is None:
            object.__setattr__(self, "key", self.kind)
        elif not isinstance(self.key, str) or not self.key:
            raise ValueError(f"key must be a non-empty str or None, got {self.key!r}")
        if not isinstance(self.details, dict):
            raise TypeError(f"details must be a dict, got {type(self.details).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields.

        Examples
        --------
        >>> Alert("x", "m", "info").to_dict()["severity"]
        'info'
        """
        from ..audit import jsonable

        return {"kind": self.kind, "key": self.key, "severity": self.severity, "message": self.message,
                "details": jsonable(self.details)}
