"""File and JSON digests: the keys that name files on disk must not drift."""

from __future__ import annotations

import hashlib
import json

import pytest

from supernet.hashing import bytes_digest, file_digest, json_digest


def test_file_digest_matches_hashlib(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    assert file_digest(p) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert file_digest(p, "md5", chunk=7) == hashlib.md5(b"abc" * 1000).hexdigest()
    assert file_digest(p, n=16) == hashlib.sha256(b"abc" * 1000).hexdigest()[:16]  # checkpoint and stage keys


def test_json_digest_is_the_truncated_sha256_of_the_dump():
    obj = {"b": 1, "a": [1.5, None, "x"]}
    full = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()
    assert json_digest(obj, 16) == full[:16] and json_digest(obj, None) == full
    assert json_digest(obj, 12, sort_keys=False) == hashlib.sha256(json.dumps(obj).encode()).hexdigest()[:12]
    assert json_digest(obj, 16) == json_digest({"a": [1.5, None, "x"], "b": 1}, 16)  # key order ignored
    assert json_digest(obj, 16, sort_keys=False) != json_digest({"a": [1.5, None, "x"], "b": 1}, 16, sort_keys=False)
    # pinned: pipeline stage keys and ws.csv.partial-<key> names are built this way
    assert json_digest({"x": 1}, 16) == "613fe5aa65343dbb"
    with pytest.raises(TypeError):
        json_digest({"p": object()}, 16)
    assert len(json_digest({"p": object()}, 16, default=lambda o: "obj")) == 16


def test_bytes_digest_hashes_chunks_as_if_concatenated():
    full = hashlib.sha256(b"abcdef").hexdigest()
    assert bytes_digest(b"abcdef") == full
    assert bytes_digest([b"ab", b"cd", b"ef"], 16) == full[:16]
    assert bytes_digest(x for x in (b"abc", b"def")) == full
    assert bytes_digest([]) == hashlib.sha256(b"").hexdigest() != full
