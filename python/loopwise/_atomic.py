"""One way to replace a file atomically and durably.

Write to a uniquely named temporary file in the same directory, flush and fsync it, rename
it over the target (atomic on POSIX and Windows), then fsync the directory so the rename
itself survives a power loss. A unique temporary name (not ``path + ".tmp"``) keeps two
writers — threads or processes — from truncating each other's half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Callable

__all__ = ["fsync_directory", "remove_durably", "write_atomic", "write_bytes_atomic", "write_json_atomic"]


def fsync_directory(path: str) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(path or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_atomic(path: str, write: Callable[[str], None]) -> None:
    """Replace ``path`` with what ``write(temporary_path)`` writes, atomically and durably.

    ``write`` receives a fresh temporary path in the same directory; a writer that raises
    leaves the old file untouched and no temporary file behind.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> write_atomic(target, lambda tmp: open(tmp, "w").write("hello"))
    >>> open(target).read()
    'hello'
    """
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    os.close(descriptor)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    fsync_directory(directory)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> write_bytes_atomic(target, b"abc")
    >>> open(target, "rb").read()
    b'abc'
    """

    def write(temporary: str) -> None:
        with open(temporary, "wb") as handle:
            handle.write(data)

    write_atomic(path, write)


def write_json_atomic(path: str, data: Any) -> None:
    """Replace ``path`` with ``data`` as indented JSON, atomically and durably.

    Examples
    --------
    >>> import json, os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "a.json")
    >>> write_json_atomic(target, {"a": 1})
    >>> json.load(open(target))
    {'a': 1}
    """
    write_bytes_atomic(path, json.dumps(data, indent=1, default=str).encode("utf-8"))


def remove_durably(path: str) -> bool:
    """Delete ``path`` and flush the directory; False when it was already gone.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "x")
    >>> write_bytes_atomic(target, b"1")
    >>> remove_durably(target), remove_durably(target)
    (True, False)
    """
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    fsync_directory(os.path.dirname(os.path.abspath(path)))
    return True
