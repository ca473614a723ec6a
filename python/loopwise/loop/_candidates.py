"""The registry's candidates area: challengers kept until validation decides their fate.

Layout::

    candidates/<id>.<ext>    the model file (format as for versions)
    candidates/<id>.meta     its metadata (JSON); the candidate exists exactly when this file does

Crash safety. The model file is written atomically first (unique temporary name, fsync,
rename, directory fsync), then the metadata file the same way: the metadata's rename is
the commit. A crash before it leaves a model file no metadata names, which cleaning removes
once it is old enough not to belong to an ``add_candidate`` still in flight. Removal goes
the other way: metadata first (the candidate is gone), then the model file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from typing import Any, Callable, Optional

from .._atomic import remove_durably
from .._atomic import write_bytes_atomic as write_atomic
from ._registry_errors import RegistryLookupError

__all__ = ["CandidateArea", "check_candidate_id"]

_ID = re.compile(r"[0-9a-f]{32}")
_METADATA = re.compile(r"([0-9a-f]{32})\.meta")


def check_candidate_id(candidate_id: Any) -> str:
    """A well-formed candidate id (32 lowercase hex characters), or a clear error.

    Examples
    --------
    >>> check_candidate_id("0" * 32) == "0" * 32
    True
    """
    if not isinstance(candidate_id, str):
        raise TypeError(f"candidate_id must be a str returned by add_candidate, got {type(candidate_id).__name__}")
    if not _ID.fullmatch(candidate_id):
        raise ValueError(f"candidate_id must be 32 lowercase hex characters (as add_candidate returns), "
                         f"got {candidate_id!r}")
    return candidate_id


class CandidateArea:
    """Files of the candidates area of one registry directory (no database involved).

    Examples
    --------
    >>> import tempfile
    >>> area = CandidateArea(tempfile.mkdtemp())
    >>> cid = area.add(b"model bytes", "pkl", {"format": "pickle"})
    >>> area.read(cid)[1]
    b'model bytes'
    >>> area.remove(cid), area.ids()
    (True, [])
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def _metadata_path(self, candidate_id: str) -> str:
        return os.path.join(self.directory, f"{candidate_id}.meta")

    def add(self, payload: bytes, extension: str, metadata: dict,
            after_file_written: Optional[Callable[[str], None]] = None) -> str:
        """Store one candidate; returns its new id. ``metadata`` must be JSON-ready."""
        candidate_id = uuid.uuid4().hex
        name = f"{candidate_id}.{extension}"
        target = os.path.join(self.directory, name)
        write_atomic(target, payload)
        if after_file_written is not None:
            after_file_written(target)
        document = {**metadata, "candidate": candidate_id, "file": name, "created": time.time_ns(),
                    "sha256": hashlib.sha256(payload).hexdigest()}
        write_atomic(self._metadata_path(candidate_id), json.dumps(document, allow_nan=False).encode("utf-8"))
        return candidate_id

    def metadata(self, candidate_id: str) -> dict:
        """The candidate's metadata; RegistryLookupError when there is no such candidate."""
        check_candidate_id(candidate_id)
        try:
            with open(self._metadata_path(candidate_id), "rb") as handle:
                return json.loads(handle.read().decode("utf-8"))
        except FileNotFoundError:
            raise RegistryLookupError(
                f"candidate {candidate_id!r} is not in {self.directory!r} (it was never added, or it was already "
                f"registered, discarded or cleaned; candidates now: {self.ids()})") from None
        except (OSError, ValueError) as error:
            raise ValueError(f"the metadata of candidate {candidate_id!r} cannot be read: {error}") from error

    def read(self, candidate_id: str) -> tuple[dict, bytes]:
        """Metadata and model bytes, checked against the stored SHA-256."""
        meta = self.metadata(candidate_id)
        path = os.path.join(self.directory, meta["file"])
        try:
            with open(path, "rb") as handle:
                payload = handle.read()
        except OSError as error:
            raise ValueError(f"the file of candidate {candidate_id!r} ({path!r}) cannot be read: {error}") from error
        if hashlib.sha256(payload).hexdigest() != meta["sha256"]:
            raise ValueError(f"the file of candidate {candidate_id!r} ({path!r}) is corrupted (checksum mismatch)")
        return meta, payload

    def remove(self, candidate_id: str) -> bool:
        """Delete a candidate (metadata first: that is the commit); False when already gone."""
        check_candidate_id(candidate_id)
        try:
            meta = self.metadata(candidate_id)
        except RegistryLookupError:
            return False
        except ValueError:  # unreadable metadata: remove it anyway, its model file becomes an orphan
            meta = {}
        removed = remove_durably(self._metadata_path(candidate_id))
        if meta.get("file"):
            remove_durably(os.path.join(self.directory, os.path.basename(meta["file"])))
        return removed

    def ids(self) -> list:
        """Ids of the committed candidates, sorted."""
        return sorted(match.group(1) for match in map(_METADATA.fullmatch, os.listdir(self.directory)) if match)

    def all(self) -> list:
        """Metadata of every committed candidate, oldest first (unreadable ones skipped)."""
        documents = []
        for candidate_id in self.ids():
            try:
                documents.append(self.metadata(candidate_id))
            except (RegistryLookupError, ValueError):  # removed meanwhile, or damaged
                continue
        return sorted(documents, key=lambda d: (d.get("created", 0), d.get("candidate", "")))

    def clean_orphans(self, min_age: float) -> list:
        """Remove files no committed candidate names (crash leftovers) older than ``min_age`` s."""
        referenced = set()
        for candidate_id in self.ids():
            referenced.add(f"{candidate_id}.meta")
            try:
                referenced.add(os.path.basename(self.metadata(candidate_id)["file"]))
            except (RegistryLookupError, ValueError, KeyError):
                continue
        return remove_orphans(self.directory, referenced, min_age)


def remove_orphans(directory: str, referenced: set, min_age: float) -> list[str]:
    """Delete the files of ``directory`` not in ``referenced`` and older than ``min_age``
    seconds (younger ones may belong to a write in flight); returns the names removed."""
    removed = []
    now = time.time()
    for name in sorted(os.listdir(directory)):
        full = os.path.join(directory, name)
        if name in referenced or not os.path.isfile(full):
            continue
        try:
            if now - os.path.getmtime(full) < min_age:
                continue
            os.remove(full)
            removed.append(name)
        except OSError:  # another process removed it first
            continue
    return removed
