"""Property-based bad-input tests of the readers and of ``predictor.cli.main`` (hypothesis).

Every file is generated here from a valid table by one mutation (rows shuffled, dropped or cut, columns
shuffled or renamed, NaN/inf, out-of-range or non-numeric values, random bytes, a stale sidecar), and
every argument list from a small grammar plus junk.  The property: exit 0 with the answer the pristine
table gives (after the rows ``--drop-nonfinite`` drops), or exit 2 with an error line; never a
traceback, never a wrong answer, never invalid ``--json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictor.cli import main
from predictor.search import SearchError, pareto_front, parse_constraints, top_k
from predictor.table import fit_table
from supernet.evaluate import WS_SCHEMA
from supernet.hashing import file_digest
from supernet.resolve import arch_strs
from supernet.space import NUM_ARCHS
from supernet.tables import BenchmarkError, read_arch_table, sidecar_path

SCALE = float(os.environ.get("NASGCN_FUZZ_SCALE", "1"))
"""Multiplies every test's example count (the defaults keep the module near a minute on a loaded 2-core
machine, where each call reading a 15,625-row table takes 0.1-0.4 s; NASGCN_FUZZ_SCALE=5 runs a few
hundred per command group)."""


def fuzz(n: int):
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])
_rng = np.random.default_rng(0)
_IDX = np.sort(_rng.choice(NUM_ARCHS, 60, replace=False))
WS = pd.DataFrame({"index": _IDX, "ws_acc": np.round(60 + 30 * _rng.random(60), 3)})


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """The pristine lookup table (index-keyed, small hardware column) and ws frame, and a work folder."""
    d = tmp_path_factory.mktemp("fuzz")
    hw = pd.DataFrame({"index": _IDX[:30], "dev_latency_ms": np.round(1 + _rng.random(30), 4)})
    table = fit_table(WS, model="ridge", hardware=hw).df.drop(columns=["arch_str"])
    truth = d / "truth.csv"
    acc = 70 + 25 * np.random.default_rng(1).random(NUM_ARCHS)
    pd.DataFrame({"index": np.arange(NUM_ARCHS), "cifar10_test_acc": acc, "cifar100_xtest_acc": acc - 20,
                  "imagenet16_120_xtest_acc": acc - 40}).to_csv(truth, index=False)
    return {"dir": d, "table": table, "truth": truth, "n": 0}


# ---------------------------------------------------------------------------------------- files
KINDS = ("same", "shuffle_rows", "shuffle_cols", "drop_rows", "truncate", "nonfinite", "out_of_range",
         "rename", "garbage", "random_bytes", "stale_sidecar")


@st.composite
def mutations(draw, columns: tuple[str, ...], value_col: str) -> dict:
    kind = draw(st.sampled_from(KINDS))
    m = {"kind": kind, "seed": draw(st.integers(0, 2**16)), "col": value_col}
    if kind == "drop_rows":
        m["k"] = draw(st.integers(1, 5))
    elif kind == "truncate":
        m["frac"] = draw(st.floats(0.0, 0.999))
    elif kind == "nonfinite":
        m["value"] = draw(st.sampled_from(["nan", "inf", "-inf", ""]))
        m["k"] = draw(st.integers(1, 3))
    elif kind == "out_of_range":
        m["value"] = draw(st.sampled_from(["-0.5", "100.01", "1e30", "-1e30"]))
    elif kind == "rename":
        m["col"] = draw(st.sampled_from(columns))
    elif kind == "garbage":
        m["value"] = draw(st.sampled_from(["abc", "1,2", '"', "x" * 300, "0x10", "--"]))
    elif kind == "random_bytes":
        m["bytes"] = draw(st.binary(min_size=0, max_size=300))
    return m


def _write(df: pd.DataFrame, m: dict, path: Path, sidecar: bool) -> set[int] | None:
    """Write ``df`` mutated by ``m`` to ``path``; the official indices whose value a drop may remove
    (``nonfinite``), else None."""
    rng = np.random.default_rng(m["seed"])
    k, dropped = m["kind"], None
    out = df.copy()
    if k == "shuffle_rows":
        out = out.iloc[rng.permutation(len(out))]
    elif k == "shuffle_cols":
        out = out[list(rng.permutation(out.columns))]
    elif k == "drop_rows":
        out = out.drop(index=out.index[rng.choice(len(out), m["k"], replace=False)])
    elif k in ("nonfinite", "out_of_range", "garbage"):
        out = out.astype({m["col"]: object})
        rows = rng.choice(len(out), m.get("k", 1), replace=False)
        out.iloc[rows, out.columns.get_loc(m["col"])] = m["value"]
        dropped = set(out["index"].iloc[rows].tolist())
    elif k == "rename":
        out = out.rename(columns={m["col"]: m["col"] + "_x"})
    sidecar_path(path).unlink(missing_ok=True)
    if k == "random_bytes":
        m["identical"] = False
        path.write_bytes(m["bytes"])
        return None
    text = out.to_csv(index=False).encode()
    pristine = df.to_csv(index=False).encode()
    m["identical"] = text == pristine and k != "truncate"
    if sidecar or k == "stale_sidecar":
        path.write_bytes(pristine)
        sidecar_path(path).write_text(json.dumps({"table_sha256": file_digest(path)}))
        if k == "stale_sidecar":
            text = text.replace(b"\n", b"\n ", 1)  # one changed byte behind the sidecar's back
    if k == "truncate":
        text = text[: int(len(text) * m["frac"])]
    path.write_bytes(text)
    return dropped if k == "nonfinite" else None


def _content_kept(m: dict, sidecar: bool) -> bool:
    """Whether the mutated file still holds the pristine table (so exit 0 must give its answer)."""
    return m["kind"] in ("same", "shuffle_rows", "shuffle_cols") and (not sidecar or m.get("identical", False))


# ---------------------------------------------------------------------------------------- the CLI
def _cli(argv: list[str]) -> tuple[int, str, str]:
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = main(argv)
        except SystemExit as x:  # argparse's own usage errors
            rc = x.code if isinstance(x.code, int) else 2
    return rc, o.getvalue(), e.getvalue()


def _strict_json(text: str):
    def bad(c: str):
        raise AssertionError(f"invalid JSON constant {c}")

    return json.loads(text, parse_constant=bad)


def _check_rc(rc: int, out: str, err: str, argv: list[str]) -> None:
    assert rc in (0, 2), (argv, rc, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if rc == 2:
        lines = [ln for ln in err.splitlines() if "error:" in ln]
        assert len(lines) == 1 and len(lines[0]) < 1200, (argv, err)
    elif "--json" in argv:
        _strict_json(out)


def _file(base: dict, suffix: str = ".csv") -> Path:
    base["n"] += 1
    return base["dir"] / f"f{base['n']}{suffix}"


NUMS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-3, 300).map(str),
                 st.text(max_size=12))
COLS = st.sampled_from(["pred_acc", "params_m", "flops_m", "dev", "dev_latency_ms", "ws_acc", "pred_std", "nope",
                        "index", "iso_id", ""])


@st.composite
def bounds(draw) -> list[str]:
    out: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        flag = draw(st.sampled_from(["--max", "--min", "--where"]))
        col, val = draw(COLS), draw(NUMS)
        op = draw(st.sampled_from(["<=", ">="])) if flag == "--where" else "="
        out += [flag, f"{col}{op}{val}"]
    return out


def _constraints(cons: list[str]):
    """The constraints of a flag list, parsed the way the CLI does."""
    pick = lambda flag: [v for f, v in zip(cons[::2], cons[1::2]) if f == flag]  # noqa: E731
    return parse_constraints(pick("--where"), max=pick("--max"), min=pick("--min"))


def _expected(df: pd.DataFrame, fn):
    try:
        return fn(df)
    except SearchError:
        return None


@fuzz(40)
@given(m=mutations(("pred_acc", "params_m", "iso_id"), "pred_acc"), sidecar=st.booleans(), cons=bounds(),
       score=st.sampled_from(["pred_acc", "pred_acc", "params_m", "dev", "nope"]),
       top=st.one_of(st.integers(-1, 8).map(str), st.just("x")), drop=st.booleans(), json_out=st.booleans())
def test_fuzz_search(base, m, sidecar, cons, score, top, drop, json_out) -> None:
    path = _file(base)
    dropped = _write(base["table"], m, path, sidecar)
    argv = ["search", "--table", str(path), "--score", score, "--top", top, *cons] + ["--json"] * json_out
    argv += ["--drop-nonfinite"] * drop
    rc, out, err = _cli(argv)
    _check_rc(rc, out, err, argv)
    kept = _content_kept(m, sidecar) or (drop and dropped is not None and m["value"] in ("nan", "inf", "-inf", ""))
    if not kept:
        assert rc == 2 or m["kind"] == "truncate", (m, argv, out)
    if rc == 0 and json_out:
        df = base["table"]
        if not _content_kept(m, sidecar):
            if m["kind"] == "truncate":  # a cut that kept every row (only the final newline): same table
                return
            df = df[~df["index"].isin(dropped)]
        d = df.assign(arch_str=arch_strs()[df["index"].to_numpy()]).reset_index(drop=True)
        want = _expected(d, lambda d: top_k(d, score, _constraints(cons), k=int(top), distinct_iso=True))
        assert want is not None, (argv, out)
        assert [r["index"] for r in _strict_json(out)["top"]] == want["index"].tolist(), (m, argv)


@fuzz(35)
@given(m=mutations(("pred_acc", "params_m"), "pred_acc"), sidecar=st.booleans(),
       archs=st.lists(st.one_of(st.integers(-3, NUM_ARCHS + 3).map(str), st.sampled_from(list(arch_strs()[:50])),
                                st.sampled_from(["1e3", "3.0", " 7 ", "|x~0|", "x" * 5000, ""]), st.text(max_size=20)),
                      min_size=1, max_size=4),
       json_out=st.booleans())
def test_fuzz_query(base, m, sidecar, archs, json_out) -> None:
    path = _file(base, ".csv")
    _write(base["table"], m, path, sidecar)
    argv = ["query", str(path), *archs] + ["--json"] * json_out
    rc, out, err = _cli(argv)
    _check_rc(rc, out, err, argv)
    if not _content_kept(m, sidecar) and m["kind"] != "truncate":
        assert rc == 2, (m, argv)
    if rc == 2:
        assert len(err) < 1500  # a 5,000-character argument is echoed only in part
    if rc == 0 and json_out and _content_kept(m, sidecar):
        rows = _strict_json(out)
        pred = base["table"].set_index("index")["pred_acc"]
        assert [r["pred_acc"] for r in rows] == pytest.approx([pred[r["index"]] for r in rows])


@fuzz(30)
@given(m=mutations(("pred_acc", "params_m", "flops_m"), "params_m"), sidecar=st.booleans(), cons=bounds(),
       costs=st.lists(st.sampled_from(["params_m", "flops_m", "dev", "nope", "pred_std"]), min_size=1, max_size=3),
       json_out=st.booleans())
def test_fuzz_pareto(base, m, sidecar, cons, costs, json_out) -> None:
    path = _file(base)
    _write(base["table"], m, path, sidecar)
    argv = ["pareto", "--table", str(path), *sum((["--cost", c] for c in costs), []), *cons] + ["--json"] * json_out
    rc, out, err = _cli(argv)
    _check_rc(rc, out, err, argv)
    if not _content_kept(m, sidecar) and m["kind"] != "truncate":
        assert rc == 2, (m, argv)
    if rc == 0 and json_out and _content_kept(m, sidecar):
        df = base["table"].assign(arch_str=arch_strs()[base["table"]["index"].to_numpy()])
        want = pareto_front(df, "pred_acc", costs, _constraints(cons))
        assert sorted(r["index"] for r in _strict_json(out)["front"]) == sorted(want["index"].tolist())


@fuzz(80)
@given(m=mutations(("ws_acc",), "ws_acc"), sidecar=st.booleans(), drop=st.booleans(),
       column=st.sampled_from(["ws_acc", "ws_acc", "index", "nope"]), dataset=st.sampled_from(["cifar10", "c100", "x"]))
def test_fuzz_evaluate(base, m, sidecar, drop, column, dataset) -> None:
    path = _file(base)
    dropped = _write(WS, m, path, sidecar)
    argv = ["evaluate", "--table", str(path), "--column", column, "--truth", str(base["truth"]), "--dataset", dataset,
            "--json"] + ["--drop-nonfinite"] * drop
    rc, out, err = _cli(argv)
    _check_rc(rc, out, err, argv)
    if rc == 0 and column == "ws_acc":
        n = _strict_json(out)["n"]
        if _content_kept(m, sidecar):
            assert n == len(WS)
        elif m["kind"] == "nonfinite" and drop and m["value"] in ("nan", "inf", "-inf", ""):
            assert n == len(WS) - len(dropped)


@fuzz(60)
@given(m=mutations(("ws_acc",), "ws_acc"), sidecar=st.booleans(), drop=st.booleans(),
       sample=st.one_of(st.none(), st.integers(-1, 70).map(str), st.just("x")), out_dir=st.booleans())
def test_fuzz_fit(base, m, sidecar, drop, sample, out_dir) -> None:
    path = _file(base)
    _write(WS, m, path, sidecar)
    out = base["dir"] if out_dir else _file(base, ".csv.gz")
    argv = ["fit", "--ws", str(path), "--model", "ridge", "--out", str(out), "--json"]
    argv += ([] if sample is None else ["--sample", sample]) + ["--drop-nonfinite"] * drop
    rc, text, err = _cli(argv)
    _check_rc(rc, text, err, argv)
    if out_dir or (sample is not None and (sample == "x" or int(sample) < 1)):
        assert rc == 2
    if rc == 0:
        res = _strict_json(text)
        assert read_arch_table(out)["pred_acc"].notna().all() and res["n_ws"] <= len(WS)


# ---------------------------------------------------------------------------------------- the reader
@fuzz(300)
@given(m=mutations(("ws_acc", "index"), "ws_acc"), sidecar=st.booleans(), drop=st.booleans())
def test_fuzz_reader(tmp_path_factory, m, sidecar, drop) -> None:
    path = tmp_path_factory.mktemp("r") / "ws.csv"
    dropped = _write(WS, m, path, sidecar)
    try:
        got = read_arch_table(path, schema=WS_SCHEMA, drop_nonfinite=drop)
    except BenchmarkError as e:
        assert "\n" not in str(e) and len(str(e)) < 1000
        return
    want = WS.set_index("index")["ws_acc"]
    assert np.isfinite(got["ws_acc"]).all() and got["ws_acc"].between(0, 100).all()
    assert got["index"].is_monotonic_increasing and got["index"].is_unique
    if _content_kept(m, sidecar):
        assert got["ws_acc"].tolist() == want.tolist()
    elif m["kind"] == "nonfinite":
        assert drop and set(got["index"]) == set(want.index) - dropped
    elif m["kind"] == "drop_rows" or m["kind"] == "truncate":  # a subset table: what is left is right
        assert not sidecar and math.isclose(got["ws_acc"].iloc[:-1].sum(), want[got["index"].iloc[:-1]].sum())
    else:
        raise AssertionError(f"accepted a {m} file")


# ---------------------------------------------------------------------------------------- every reader
def _readers() -> dict:
    """name -> (pristine frame, value column, read(path, drop) -> Series of the value by index, whether a
    reader takes --drop-nonfinite, NaN accepted, value text -> whether it is in range)."""
    from predictor.fusion import read_signal_table
    from predictor.truth import load_hardware, load_truth
    from supernet.landmarks import LANDMARK_SCHEMA
    from supernet.space import degenerate_mask

    live = np.flatnonzero(~degenerate_mask())
    idx = np.sort(np.random.default_rng(5).choice(live, 40, replace=False))
    v = np.round(60 + 30 * np.random.default_rng(6).random(40), 3)
    percent = lambda t: 0 <= float(t) <= 100  # noqa: E731
    by_index = lambda df, col: df.set_index("index")[col]  # noqa: E731
    return {
        "ws": (WS, "ws_acc", lambda p, d: by_index(read_arch_table(p, schema=WS_SCHEMA, drop_nonfinite=d), "ws_acc"),
               True, False, percent),
        "landmarks": (pd.DataFrame({"index": idx, "true_acc": v}), "true_acc",
                      lambda p, d: by_index(read_arch_table(p, schema=LANDMARK_SCHEMA, drop_nonfinite=d), "true_acc"),
                      True, False, percent),
        "hardware": (pd.DataFrame({"index": idx, "x_latency_ms": v / 10}), "x_latency_ms",
                     lambda p, d: by_index(load_hardware(p, subset=True), "x_latency_ms"), False, True,
                     lambda t: float(t) > 0),
        "proxies": (pd.DataFrame({"index": idx, "nwot": v, "degenerate": False}), "nwot",
                    lambda p, d: read_signal_table(p, ["nwot"])["nwot"].dropna(), False, False, lambda t: True),
        "truth": (pd.DataFrame({"index": idx, "cifar10_test_acc": v, "cifar100_xtest_acc": v - 20,
                                "imagenet16_120_xtest_acc": v - 40}), "cifar10_test_acc",
                  lambda p, d: by_index(load_truth(p, subset=True), "cifar10_test_acc"), False, False, percent),
    }


READERS = _readers()


@pytest.mark.parametrize("reader", sorted(READERS))
@fuzz(60)
@given(data=st.data(), sidecar=st.booleans(), drop=st.booleans())
def test_fuzz_every_reader(tmp_path_factory, reader, data, sidecar, drop) -> None:
    frame, col, read, has_drop, nan_ok, in_range = READERS[reader]
    m = data.draw(mutations(tuple(frame.columns), col))
    path = tmp_path_factory.mktemp(reader) / "t.csv"
    _write(frame, m, path, sidecar)
    drop = drop and has_drop
    want = frame.set_index("index")[col]
    try:
        got = read(path, drop)
    except (BenchmarkError, ValueError) as e:  # BenchmarkError is a ValueError; both end as exit 2
        assert "\n" not in str(e) and len(str(e)) < 1000
        k = m["kind"]
        assert not (_content_kept(m, sidecar) or (k == "out_of_range" and in_range(m["value"]) and not sidecar)
                    or (k == "nonfinite" and not sidecar and nan_ok and m["value"] in ("nan", ""))), (m, str(e))
        return
    k = m["kind"]
    finite = got.dropna()
    assert np.isfinite(finite).all(), (m, got)
    if _content_kept(m, sidecar) or (k == "rename" and m["col"] not in (col, "index") and not sidecar):
        assert got.sort_index().tolist() == pytest.approx(want.tolist())  # (an optional column renamed: ignored)
    elif k == "nonfinite":
        assert not sidecar and ((m["value"] in ("nan", "") and nan_ok) or drop), m
        assert set(finite.index) <= set(want.index) and (finite == want[finite.index]).all()
    elif k == "out_of_range":
        assert not sidecar and in_range(m["value"]), m
    elif k in ("drop_rows", "truncate"):  # a subset table: what is left is right (a cut may shorten the last value)
        assert not sidecar and set(got.index) <= set(want.index)
        assert np.allclose(got.sort_index().iloc[:-1], want[got.sort_index().index[:-1]])
    else:
        raise AssertionError(f"{reader} accepted a {m} file")
