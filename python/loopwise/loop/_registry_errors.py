"""Exceptions of the model registry (shared by its storage modules)."""

from __future__ import annotations

__all__ = ["RegistryLookupError", "UntrustedModelError"]


class RegistryLookupError(KeyError, ValueError):
    """An unknown version, alias or candidate (a KeyError and a ValueError, with a readable message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UntrustedModelError(ValueError):
    """Loading this model file would run code the caller has not declared trusted."""
