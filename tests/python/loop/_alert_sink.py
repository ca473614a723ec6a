"""A callable alert sink importable by path (for the saved-configuration tests)."""

from __future__ import annotations

RECEIVED: list = []


def record(payload: dict) -> None:
    RECEIVED.append(payload)
