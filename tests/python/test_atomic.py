"""The one atomic-write helper: all or nothing, unique temporary names, nothing left behind."""

from __future__ import annotations

import os
import threading

import pytest

from loopwise._atomic import write_atomic, write_bytes_atomic, write_json_atomic


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "state.json"
    write_json_atomic(str(target), {"v": 1})

    def broken(temporary):
        with open(temporary, "w") as handle:
            handle.write('{"v": 2')  # half written
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(str(target), broken)
    assert target.read_text() == '{\n "v": 1\n}'
    assert os.listdir(tmp_path) == ["state.json"]


def test_concurrent_writers_never_interleave(tmp_path):
    target = str(tmp_path / "blob")
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=write_bytes_atomic, args=(target, p)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(target, "rb") as handle:
        assert handle.read() in payloads  # one whole payload, never a mix
    assert os.listdir(tmp_path) == ["blob"]
