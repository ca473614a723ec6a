"""The profile's bytes: ``LWPF``, a little-endian uint16 format version, a uint32 header
length, a JSON header (counts, moments, edges, categories) and the sketches' own
serialised bytes. No pickle: a profile read from an untrusted place runs no code."""

from __future__ import annotations

import json
import struct

import numpy as np

from . import _sketches
from ._columns import CategoricalColumn, NumericColumn
from ._moments import Moments

__all__ = ["MAGIC", "VERSION", "encode", "decode"]

MAGIC = b"LWPF"
VERSION = 1
_PREFIX = struct.Struct("<4sHI")


def encode(columns: list, bins: int) -> bytes:
    header: dict = {"version": VERSION, "bins": bins, "columns": []}
    blobs: list[bytes] = []
    offset = 0

    def add(blob: bytes) -> list:
        nonlocal offset
        blobs.append(blob)
        offset += len(blob)
        return [offset - len(blob), len(blob)]

    for c in columns:
        entry = {"name": c.name, "kind": c.kind, "n_rows": c.n_rows, "n_missing": c.n_missing}
        if isinstance(c, NumericColumn):
            entry.update(moments=c.moments.to_list(), k=c.k, edges=c.edges.tolist(), counts=c.counts.tolist(),
                         kll=add(c.kll.serialize()))
        else:
            entry.update(categories=c.categories, counts=None if c.counts is None else c.counts.tolist(),
                         max_categories=c.max_categories, lg_max_k=c.lg_max_k, frequent=add(c.frequent.serialize()))
        header["columns"].append(entry)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return _PREFIX.pack(MAGIC, VERSION, len(text)) + text + b"".join(blobs)


def decode(data: bytes) -> tuple[list, int]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a profile is bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _PREFIX.size or data[:4] != MAGIC:
        raise ValueError("these bytes are not a loopwise profile (no LWPF header)")
    _, version, length = _PREFIX.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"profile format version {version} is not supported by this loopwise (reads {VERSION}); "
                         "rebuild the profile or upgrade loopwise")
    body = _PREFIX.size + length
    try:
        header = json.loads(data[_PREFIX.size:body].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"the profile's header is corrupt: {error}") from error
    ds = _sketches.require()

    def blob(span: list) -> bytes:
        start, size = span
        return data[body + start: body + start + size]

    columns: list = []
    for e in header["columns"]:
        if e["kind"] == "categorical":
            counts = None if e["counts"] is None else np.asarray(e["counts"], dtype=np.int64)
            columns.append(CategoricalColumn(e["name"], e["n_rows"], e["n_missing"], list(e["categories"]), counts,
                                             ds.frequent_strings_sketch.deserialize(blob(e["frequent"])),
                                             e["max_categories"], e["lg_max_k"]))
        else:
            columns.append(NumericColumn(e["name"], e["kind"], e["n_rows"], e["n_missing"],
                                         Moments.from_list(e["moments"]),
                                         ds.kll_doubles_sketch.deserialize(blob(e["kll"])), e["k"],
                                         np.asarray(e["edges"], dtype=np.float64),
                                         np.asarray(e["counts"], dtype=np.int64)))
    return columns, int(header["bins"])
