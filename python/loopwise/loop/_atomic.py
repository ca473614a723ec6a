"""One atomic-write helper for every file a crash must not tear.

``write_atomic`` writes under a unique temporary name next to the target, fsyncs the file,
renames it over the target (atomic on POSIX and Windows) and fsyncs the directory so the
rename itself survives a power loss. Readers see the old file or the new one, never a part.
"""

from __future__ import annotations

import os
import uuid

__all__ = ["fsync_directory", "remove_durably", "write_atomic"]


def fsync_directory(path: str) -> None:
    """Flush a directory's entries (a rename or an unlink) to disk, where the platform allows.

    Examples
    --------
    >>> import tempfile
    >>> fsync_directory(tempfile.mkdtemp())
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either no file or the whole file.

    The temporary name carries the process id and a random part, so concurrent writers
    (threads or processes) never share one.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "model.bin")
    >>> write_atomic(target, b"weights")
    >>> open(target, "rb").read()
    b'weights'
    """
    temporary = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    fsync_directory(os.path.dirname(path) or ".")


def remove_durably(path: str) -> bool:
    """Delete ``path`` and flush the directory; False when it was already gone.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "x")
    >>> write_atomic(target, b"1")
    >>> remove_durably(target), remove_durably(target)
    (True, False)
    """
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    fsync_directory(os.path.dirname(path) or ".")
    return True
