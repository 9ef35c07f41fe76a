"""Atomic writes (temp file beside the target, then rename) and JSON-ready values."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supernet.fileio import atomic_write, jsonable, write_csv_atomic, write_json_atomic, write_text_atomic


def test_atomic_write_replaces_and_leaves_nothing_behind(tmp_path):
    p = tmp_path / "a" / "f.txt"
    write_text_atomic(p, "one")
    write_text_atomic(p, "two")
    assert p.read_text() == "two" and os.listdir(p.parent) == ["f.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("old")

    def half(t: Path) -> None:
        t.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(p, half, fsync=True)
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def test_json_and_csv_variants(tmp_path):
    write_json_atomic(tmp_path / "m.json", {"a": [1, 2]}, indent=2)
    assert (tmp_path / "m.json").read_text() == json.dumps({"a": [1, 2]}, indent=2)
    df = pd.DataFrame({"index": [1, 2], "x": [0.5, 0.25]})
    write_csv_atomic(df, tmp_path / "t.csv.gz", index=False, compression="gzip")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv.gz"), df)


def test_jsonable_turns_numpy_and_paths_into_plain_values():
    v = jsonable({"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "a": np.arange(3),
                  "t": (np.int8(1), Path("x/y")), np.int64(7): [np.float64(2.0)], "s": "keep"})
    assert v == {"i": 3, "f": 0.5, "b": True, "a": [0, 1, 2], "t": [1, "x/y"], 7: [2.0], "s": "keep"}
    assert type(v["i"]) is int and type(v["f"]) is float and type(v["b"]) is bool
    json.dumps(v)
    assert jsonable(float("nan")) != jsonable(float("nan"))  # NaN passes through (callers decide)
