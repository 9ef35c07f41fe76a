"""Architecture-keyed table IO: alignment to the official index, its errors, writing with a sidecar."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supernet import space
from supernet import tables as tb
from supernet.hashing import file_digest

META = [a.to_str() for a in space.all_archs()]


def test_align_by_arch_str_sorts_into_official_order():
    idx = [42, 3, 15000]
    df = pd.DataFrame({"arch_str": [META[i] for i in idx], "score": [1.0, 2.0, 3.0]})
    out = tb.align_to_space(df)
    assert out["index"].tolist() == [3, 42, 15000]
    assert out.index.tolist() == [3, 42, 15000]
    assert list(out.columns) == ["index", "arch_str", "score"]
    assert out.loc[42, "score"] == 1.0 and out.loc[15000, "score"] == 3.0


def test_align_by_index_only_adds_arch_str():
    out = tb.align_to_space(pd.DataFrame({"index": [9, 0], "x": [1, 2]}))
    assert out["arch_str"].tolist() == [META[0], META[9]]


@pytest.mark.parametrize(
    "df, message",
    [
        (pd.DataFrame({"arch": ["a"], "acc": [1.0]}), "has neither 'index' nor 'arch_str'; columns are ['arch', 'acc']"),
        (pd.DataFrame({"index": [0, 1], "arch_str": [META[0], META[2]]}), "wrong index order: row 1 has index 1"),
        (pd.DataFrame({"index": [0, 0]}), "appears 2 times (rows 0, 1)"),
        (pd.DataFrame({"index": [3, 15625]}), "row 1 has index 15625, outside the official range"),
        (pd.DataFrame({"index": [3, "x"]}), "row 1 has index 'x', not an integer"),
        (pd.DataFrame({"arch_str": [META[1], "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"]}),
         "row 1 has an arch_str that is not a NAS-Bench-201 cell: unknown operation 'conv'"),
        (pd.DataFrame({"arch_str": [META[1], None]}), "row 1 has no arch_str"),
    ],
)
def test_align_errors_name_the_problem(df, message):
    with pytest.raises(tb.BenchmarkError) as e:
        tb.align_to_space(df, name="my table")
    assert message in str(e.value)
    assert str(e.value).startswith("my table")


def test_read_arch_table_errors(tmp_path):
    with pytest.raises(tb.MissingDataError, match="data/README.md"):
        tb.read_arch_table(tmp_path / "nope.csv")
    p = tmp_path / "ws.csv"
    pd.DataFrame({"index": [1, 2], "ws": [0.1, 0.2]}).to_csv(p, index=False)
    with pytest.raises(tb.BenchmarkError, match=r"lacks column\(s\) \['ws_acc'\]; .*columns are \['index', 'ws'\]"):
        tb.read_arch_table(p, ["ws_acc"])
    t = tb.read_arch_table(p, ["ws"], subset=True)
    assert t.loc[2, "ws"] == 0.2
    with pytest.raises(tb.BenchmarkError, match="covers 2 of the 15625"):
        tb.read_arch_table(p, subset=False)
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(tb.BenchmarkError, match="cannot read"):
        tb.read_arch_table(tmp_path / "bad.csv.gz")


def test_sidecar_path_is_named_after_the_whole_file_name():
    assert tb.sidecar_path("out/truth.csv.gz") == Path("out/truth.csv.gz.json")
    assert tb.sidecar_path("t.csv") == Path("t.csv.json")  # t.csv and t.csv.gz no longer share t.json


def test_write_table_is_atomic_with_sidecar(tmp_path):
    df = pd.DataFrame({"index": [3, 1], "x": [0.5, np.nan]})
    out = tmp_path / "sub" / "t.csv.gz"
    assert tb.write_table(df, out, {"n": 2, "path": Path("a")}) == out
    pd.testing.assert_frame_equal(pd.read_csv(out), df)
    assert json.loads(tb.sidecar_path(out).read_text()) == {"n": 2, "path": "a", "table_sha256": file_digest(out)}
    assert sorted(p.name for p in out.parent.iterdir()) == ["t.csv.gz", "t.csv.gz.json"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # as open() would make it, not mkstemp's 0600


def test_arch_str_keys_tolerate_whitespace_but_not_indices():
    out = tb.align_to_space(pd.DataFrame({"arch_str": [" " + META[5] + "\t", META[2]]}))
    assert out["index"].tolist() == [2, 5] and out.loc[5, "arch_str"] == META[5]
    with pytest.raises(tb.BenchmarkError, match="row 1 has an arch_str that is not a NAS-Bench-201 cell"):
        tb.align_to_space(pd.DataFrame({"arch_str": [META[0], "12"]}))  # a digit string is no arch string
    with pytest.raises(tb.BenchmarkError, match="row 0 has no arch_str \\(got 7\\)"):
        tb.align_to_space(pd.DataFrame({"arch_str": [7, "junk"]}, dtype=object))
