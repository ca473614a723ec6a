"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temporary directory,
a free local port, the unix socket inside the directory, stopped and removed at the end.

initdb refuses to run as root, so when we are root the cluster runs as the ``postgres``
system user (created by Debian's ``postgresql`` package; scripts/services/postgres.sh
installs it).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import Optional

_SEARCH = ["/usr/lib/postgresql/*/bin"]


def binaries() -> Optional[str]:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest version first), or None."""
    found = sorted(glob.glob(os.path.join(_SEARCH[0], "initdb")), reverse=True)
    if found:
        return os.path.dirname(found[0])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def schema_url(base: str) -> str:
    """``base`` with a PostgreSQL schema of its own, so users of one server never see each other's rows."""
    return f"{base}?schema=t{uuid.uuid4().hex[:16]}"


class Cluster:
    """A running throwaway server; ``url`` connects as a superuser to database ``loopwise``."""

    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        self.root = tempfile.mkdtemp(prefix="loopwise-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.root, user=self.user)
            os.chmod(self.root, 0o700)
        self._run("initdb", "-D", self.data, "-U", "loopwise", "--auth=trust", "-E", "UTF8", "--no-instructions")
        options = f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} " \
                  "-c max_connections=60 -c shared_buffers=128MB"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-o", options, "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "loopwise", "loopwise")
        self.url = f"postgresql://loopwise@127.0.0.1:{self.port}/loopwise"

    def _run(self, program: str, *args: str) -> None:
        command = [os.path.join(self.bin_dir, program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr or result.stdout}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
