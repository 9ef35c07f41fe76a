"""Truth / hardware tables and the official-file importer.

The importer tests write tiny files in the official on-disk formats themselves (a handful of
architectures, fake but well-formed metrics): a NATS-Bench ``-simple`` directory of bz2 pickles,
a NATS-Bench single ``.pickle.pbz2`` file, and NAS-Bench-201 ``.pth`` files saved by ``torch.save``
(legacy and zip serialization).  Real-data tests skip without NASGCN_DATA.
"""

from __future__ import annotations

import bz2
import datetime
import importlib.util
import io
import json
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from predictor import benchmark as bm
from predictor import paths
from supernet import space
from supernet.space import NUM_ARCHS, Arch

# ----------------------------------------------------------------------------- fake official records
DATASET_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("ori-test", "x-valid", "x-test"),
    "ImageNet16-120": ("ori-test", "x-valid", "x-test"),
}
TARGET = {"cifar10": "ori-test", "cifar100": "x-test", "ImageNet16-120": "x-test"}
COL = {"cifar10": "cifar10_test_acc", "cifar100": "cifar100_xtest_acc", "ImageNet16-120": "imagenet16_120_xtest_acc"}


def final_acc(i: int, dataset: str, setname: str, seed: int, epochs: int = 200) -> float:
    """A distinct, reproducible accuracy per (arch, dataset, set, seed, schedule) at the final epoch."""
    base = {"cifar10-valid": 80.0, "cifar10": 85.0, "cifar100": 55.0, "ImageNet16-120": 25.0}[dataset]
    off = {"x-valid": 0.5, "ori-test": 0.25, "x-test": 0.0}[setname]
    return base + off + (i % 97) * 0.1 + (seed % 7) * 0.37 - (3.0 if epochs == 12 else 0.0)


def seeds_of(i: int) -> list[int]:
    return [777, 888, 999] if i % 2 else [777, 888]  # 2 or 3 trials, as in the benchmark


def results_count(i: int, arch_str: str, dataset: str, seed: int, epochs: int) -> dict:
    names = DATASET_SETS[dataset]
    d: dict = {
        "name": dataset,
        "net_state_dict": None,
        "train_acc1es": {e: 10.0 + e * 0.1 for e in range(epochs)},
        "train_acc5es": {e: 30.0 + e * 0.1 for e in range(epochs)},
        "train_losses": {e: 2.0 - e * 0.001 for e in range(epochs)},
        "train_times": OrderedDict((e, 1.5) for e in range(epochs)),
        "arch_config": {"channel": 16, "num_cells": 5, "arch_str": arch_str, "class_num": 10},
        "params": 1.0,
        "flop": 100.0,
        "seed": seed,
        "epochs": epochs,
        "latency": [0.01, 0.011],
        "eval_names": list(names),
        "eval_acc1es": {},
        "eval_times": {},
        "eval_losses": {},
    }
    for n in names:
        for e in range(epochs):
            # earlier epochs get a different value, so picking the wrong epoch shows
            d["eval_acc1es"][f"{n}@{e}"] = final_acc(i, dataset, n, seed, epochs) if e == epochs - 1 else 1.0 + e * 0.01
            d["eval_times"][f"{n}@{e}"] = 0.1
            d["eval_losses"][f"{n}@{e}"] = 1.0
    return d


def arch_results(i: int, arch_str: str, epochs: int, datasets=tuple(DATASET_SETS)) -> dict:
    all_results, dataset_seed = {}, {}
    for ds in datasets:
        dataset_seed[ds] = seeds_of(i)
        for s in dataset_seed[ds]:
            all_results[(ds, s)] = results_count(i, arch_str, ds, s, epochs)
    return {"arch_index": i, "arch_str": arch_str, "all_results": all_results,
            "dataset_seed": dataset_seed, "clear_net_done": True}


def expected(i: int, epochs: int = 200) -> dict[str, float]:
    return {COL[ds]: float(np.mean([final_acc(i, ds, TARGET[ds], s, epochs) for s in seeds_of(i)])) for ds in TARGET}


META = [a.to_str() for a in space.all_archs()]  # official order; records reuse these str objects
SOME = [0, 1, 7, 123, 15624]


def nats_record(i: int, **kw) -> OrderedDict:
    return OrderedDict({"12": arch_results(i, META[i], 12, **kw), "200": arch_results(i, META[i], 200, **kw)})


def nb201_record(i: int, **kw) -> dict:
    return {"less": arch_results(i, META[i], 12, **kw), "full": arch_results(i, META[i], 200, **kw)}


def bz2_pickle(obj, path: Path) -> None:  # as nats_bench.pickle_save: bz2 + pickle protocol 4
    with bz2.BZ2File(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def write_nats_dir(root: Path, indices=SOME, meta=META, record=nats_record) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    bz2_pickle({"meta_archs": list(meta), "total_archs": len(meta), "arch2infos": None,
                "evaluated_indexes": set()}, root / "meta.pickle.pbz2")
    for i in indices:
        bz2_pickle(record(i), root / f"{i:06d}.pickle.pbz2")
    return root


def write_nats_file(path: Path, indices=SOME) -> Path:
    bz2_pickle({"meta_archs": list(META), "total_archs": NUM_ARCHS,
                "arch2infos": {i: nats_record(i) for i in indices}, "evaluated_indexes": set(indices)}, path)
    return path


def nb201_obj(indices=SOME, record=nb201_record, meta=META) -> dict:
    return {"meta_archs": list(meta), "arch2infos": {i: record(i) for i in indices},
            "evaluated_indexes": set(indices)}


def write_nb201(path: Path, legacy: bool = True, obj=None) -> Path:
    torch.save(nb201_obj() if obj is None else obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def check_values(df: pd.DataFrame, indices=SOME) -> None:
    assert df["index"].tolist() == sorted(indices)
    assert df.index.tolist() == sorted(indices)
    assert list(df.columns) == list(bm.TRUTH_COLUMNS)
    for i in indices:
        for col, v in expected(i).items():
            assert df.loc[i, col] == pytest.approx(v, abs=1e-12), (i, col)
        assert df.loc[i, "arch_str"] == META[i]
        assert df.loc[i, "iso_id"] == space.iso_ids()[i]
        assert tuple(df.loc[i, list(bm.OP_COLUMNS)]) == Arch.from_index(i).codes


# ----------------------------------------------------------------------------- paths, alignment
def test_data_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NASGCN_DATA", str(tmp_path))
    assert paths.data_root() == tmp_path
    assert bm.default_truth_path() == tmp_path / "nb201" / "nb201_truth.csv.gz"
    monkeypatch.delenv("NASGCN_DATA")
    assert paths.data_root() == paths.REPO_ROOT / "data"


def test_align_by_arch_str_sorts_into_official_order():
    idx = [42, 3, 15000]
    df = pd.DataFrame({"arch_str": [META[i] for i in idx], "score": [1.0, 2.0, 3.0]})
    out = bm.align_to_space(df)
    assert out["index"].tolist() == [3, 42, 15000]
    assert out.index.tolist() == [3, 42, 15000]
    assert list(out.columns) == ["index", "arch_str", "score"]
    assert out.loc[42, "score"] == 1.0 and out.loc[15000, "score"] == 3.0


def test_align_by_index_only_adds_arch_str():
    out = bm.align_to_space(pd.DataFrame({"index": [9, 0], "x": [1, 2]}))
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
    with pytest.raises(bm.BenchmarkError) as e:
        bm.align_to_space(df, name="my table")
    assert message in str(e.value)
    assert str(e.value).startswith("my table")


def test_read_arch_table_errors(tmp_path):
    with pytest.raises(bm.MissingDataError, match="data/README.md"):
        bm.read_arch_table(tmp_path / "nope.csv")
    p = tmp_path / "ws.csv"
    pd.DataFrame({"index": [1, 2], "ws": [0.1, 0.2]}).to_csv(p, index=False)
    with pytest.raises(bm.BenchmarkError, match=r"lacks column\(s\) \['ws_acc'\]; .*columns are \['index', 'ws'\]"):
        bm.read_arch_table(p, ["ws_acc"])
    t = bm.read_arch_table(p, ["ws"], subset=True)
    assert t.loc[2, "ws"] == 0.2
    with pytest.raises(bm.BenchmarkError, match="covers 2 of the 15625"):
        bm.read_arch_table(p, subset=False)
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(bm.BenchmarkError, match="cannot read"):
        bm.read_arch_table(tmp_path / "bad.csv.gz")


def test_dataset_resolution_and_column_choice():
    assert bm.resolve_dataset("ImageNet16-120") == "imagenet16_120"
    assert bm.resolve_dataset("CIFAR-100") == "cifar100"
    assert bm.truth_column("cifar10") == "cifar10_test_acc"
    with pytest.raises(bm.BenchmarkError, match=r"unknown dataset 'svhn'; choose one of \['cifar10', 'cifar100', 'imagenet16_120'\]"):
        bm.resolve_dataset("svhn")
    df = bm.build_truth_table({i: expected(i) for i in SOME})
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        np.testing.assert_array_equal(bm.truth_accuracy(df, ds), [expected(i)[COL[ds]] for i in SOME])
    with pytest.raises(bm.BenchmarkError, match="has no column 'cifar100_xtest_acc'"):
        bm.truth_accuracy(df.drop(columns="cifar100_xtest_acc"), "cifar100")


def test_validate_truth_checks_values_and_derived_columns():
    df = bm.build_truth_table({i: expected(i) for i in SOME})
    out = bm.validate_truth(df, subset=True)
    assert out.shape == (len(SOME), len(bm.TRUTH_COLUMNS))
    with pytest.raises(bm.BenchmarkError, match="covers 5 of the 15625"):
        bm.validate_truth(df)
    bad = df.copy()
    bad.loc[1, "cifar10_test_acc"] = 0.9337 * 1000
    with pytest.raises(bm.BenchmarkError, match="outside 0..100; accuracies are percentages"):
        bm.validate_truth(bad, subset=True)
    bad = df.copy()
    bad["op_e12"] = (bad["op_e12"] + 1) % 5
    with pytest.raises(bm.BenchmarkError, match="column 'op_e12' row 0 \\(index 0\\)"):
        bm.validate_truth(bad, subset=True)
    bad = df.copy()
    bad.loc[7, "iso_id"] = 99999
    with pytest.raises(bm.BenchmarkError, match="'iso_id' row 2 \\(index 7\\) is 99999"):
        bm.validate_truth(bad, subset=True)
    slim = df[["arch_str", *bm.ACC_COLUMNS]]  # derived columns are filled in
    assert bm.validate_truth(slim, subset=True)["unique_str"].tolist() == [space.unique_strs()[i] for i in SOME]
    only_c10 = df[["index", "cifar10_test_acc"]]
    assert "cifar10_test_acc" in bm.validate_truth(only_c10, subset=True, datasets=["cifar10"]).columns
    with pytest.raises(bm.BenchmarkError, match=r"lacks column\(s\) \['cifar100_xtest_acc', 'imagenet16_120_xtest_acc'\]"):
        bm.validate_truth(only_c10, subset=True)


def test_scores_vs_truth_pairs_by_index():
    truth = bm.build_truth_table({i: expected(i) for i in SOME})
    table = bm.align_to_space(pd.DataFrame({"arch_str": [META[123], META[0]], "ws": [0.5, np.nan]}))
    s = bm.scores_vs_truth(table, "ws", truth, "cifar100")
    assert s["index"].tolist() == [0, 123]
    assert s["true"].tolist() == [expected(0)["cifar100_xtest_acc"], expected(123)["cifar100_xtest_acc"]]
    assert np.isnan(s.loc[0, "pred"]) and s.loc[123, "pred"] == 0.5
    assert s["degenerate"].tolist() == [bool(space.degenerate_mask()[0]), bool(space.degenerate_mask()[123])]
    far = bm.align_to_space(pd.DataFrame({"index": [5], "ws": [1.0]}))
    with pytest.raises(bm.BenchmarkError, match="no row for 1 architecture"):
        bm.scores_vs_truth(far, "ws", truth)


def test_hardware_validation_and_device_lookup():
    df = pd.DataFrame({"index": [0, 1, 2], "a_raspi4_latency_ms": [1.0, 2.0, 3.0],
                       "a_edgegpu_latency_ms": [np.nan, 4.0, np.nan], "b_raspi4_latency_ms": [1, 1, 1]})
    out = bm.validate_hardware(df, subset=True)
    assert bm.latency_columns(out) == ["a_raspi4_latency_ms", "a_edgegpu_latency_ms", "b_raspi4_latency_ms"]
    assert bm.latency_column(out, "edgegpu") == "a_edgegpu_latency_ms"
    assert bm.latency_column(out, "a_raspi4") == "a_raspi4_latency_ms"
    with pytest.raises(bm.BenchmarkError, match="ambiguous"):
        bm.latency_column(out, "raspi4")
    with pytest.raises(bm.BenchmarkError, match="no latency column for device 'tpu'; choose one of"):
        bm.latency_column(out, "tpu")
    with pytest.raises(bm.BenchmarkError, match="no latency columns"):
        bm.validate_hardware(df[["index"]], subset=True)
    neg = df.assign(a_raspi4_latency_ms=[1.0, -2.0, 3.0])
    with pytest.raises(bm.BenchmarkError, match="row 1 \\(index 1\\) is -2.0; latencies must be positive"):
        bm.validate_hardware(neg, subset=True)
    with pytest.raises(bm.BenchmarkError, match="has no values"):
        bm.validate_hardware(df.assign(a_edgegpu_latency_ms=np.nan), subset=True)


def test_sidecar_path():
    assert bm.sidecar_path("out/truth.csv.gz") == Path("out/truth.json")
    assert bm.sidecar_path("t.csv") == Path("t.json")


# ----------------------------------------------------------------------------- importer
def test_import_nats_dir(tmp_path):
    src = write_nats_dir(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    assert bm.detect_format(src) == ("nats", "nats-dir")
    out = tmp_path / "truth.csv.gz"
    df, meta = bm.import_benchmark(src, out, indices=SOME, progress=False)
    check_values(df)
    back = bm.load_truth(out, subset=True)  # the written file is a valid truth table
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    side = json.loads(bm.sidecar_path(out).read_text())
    assert side["format"] == "nats" and side["hp"] == "200" and side["is_random"] is False
    assert side["n_archs"] == len(SOME) and side["complete"] is False
    assert len(side["source_digest"]["sha256"]) == 64 and side["source"] == str(src.resolve())
    assert datetime.datetime.fromisoformat(side["created"]).year >= 2024


def test_import_nats_dir_hp12_reads_the_12_epoch_results(tmp_path):
    src = write_nats_dir(tmp_path / "d", indices=[7])
    df, meta = bm.read_official(src, indices=[7], hp="12", progress=False)
    assert df.loc[7, "cifar10_test_acc"] == pytest.approx(expected(7, epochs=12)["cifar10_test_acc"])  # epoch 11
    assert expected(7, epochs=12)["cifar10_test_acc"] != expected(7)["cifar10_test_acc"]
    assert meta["hp"] == "12"


def test_import_nats_dir_missing_architectures(tmp_path):
    src = write_nats_dir(tmp_path / "d")
    with pytest.raises(bm.BenchmarkError, match=r"15620 of 15625 architectures have no file \(indices 2, 3, 4, 5, 6"):
        bm.read_official(src, progress=False)
    with pytest.raises(bm.BenchmarkError, match="1 of 2 architectures have no file \\(indices 2; expected e.g. 000002.pickle.pbz2\\)"):
        bm.read_official(src, indices=[1, 2], progress=False)
    df, meta = bm.read_official(src, indices=[0, 1, 2], allow_missing=True, progress=False)
    assert df["index"].tolist() == [0, 1] and meta["missing_indices"] == [2]


def test_import_nats_dir_wrong_archive_order(tmp_path):
    meta = list(META)
    meta[5], meta[9] = meta[9], meta[5]
    src = write_nats_dir(tmp_path / "d", meta=meta)
    with pytest.raises(bm.BenchmarkError, match="disagrees with our official index at position 5: the archive has .*official index 9"):
        bm.read_official(src, indices=SOME, progress=False)
    src2 = write_nats_dir(tmp_path / "short", meta=META[:100])
    with pytest.raises(bm.BenchmarkError, match="lists 100 architectures, expected 15625"):
        bm.read_official(src2, indices=SOME, progress=False)


def test_import_nats_dir_record_errors(tmp_path):
    # a record stored under the wrong file name
    src = write_nats_dir(tmp_path / "d", indices=[1], record=lambda i: nats_record(2))
    with pytest.raises(bm.BenchmarkError, match="stored under index 1 says arch_index=2"):
        bm.read_official(src, indices=[1], progress=False)
    # a dataset missing from the record
    src = write_nats_dir(tmp_path / "e", indices=[1], record=lambda i: nats_record(i, datasets=("cifar10", "cifar100")))
    with pytest.raises(bm.BenchmarkError, match="no 'ImageNet16-120' results at hp='200' \\(datasets present: \\['cifar10', 'cifar100'\\]\\)"):
        bm.read_official(src, indices=[1], progress=False)

    # a NaN accuracy
    def nan_record(i):
        r = nats_record(i)
        r["200"]["all_results"][("cifar100", 777)]["eval_acc1es"]["x-test@199"] = float("nan")
        return r

    src = write_nats_dir(tmp_path / "f", indices=[1], record=nan_record)
    with pytest.raises(bm.BenchmarkError, match="architecture 1 has a non-finite cifar100_xtest_acc"):
        bm.read_official(src, indices=[1], progress=False)


def test_import_nats_single_file_stream_and_whole(tmp_path):
    src = write_nats_file(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    assert bm.detect_format(src) == ("nats", "nats-file")
    a, meta = bm.read_official(src, indices=SOME, progress=False)
    b, _ = bm.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(a)
    pd.testing.assert_frame_equal(a, b)
    assert meta["reader"] == "nasgcn streaming unpickler" and meta["evaluated_indexes"] == len(SOME)


@pytest.mark.parametrize("legacy", [True, False])
def test_import_nb201_pth(tmp_path, legacy):
    src = write_nb201(tmp_path / "NAS-Bench-201-v1_1-096897.pth", legacy=legacy)
    assert bm.detect_format(src) == ("nb201", "nb201-legacy" if legacy else "nb201-zip")
    out = tmp_path / "t.csv"
    a, meta = bm.import_benchmark(src, out, fmt="nb201", indices=SOME, progress=False)
    b, _ = bm.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(a)
    pd.testing.assert_frame_equal(a, b)
    assert meta["source_digest"]["bytes"] == src.stat().st_size
    assert pd.read_csv(out)["index"].tolist() == SOME
    with pytest.raises(bm.BenchmarkError, match="missing from 'arch2infos' \\(indices 2, 3, 4, 5, 6"):
        bm.read_official(src, progress=False)


def test_streaming_unpickler_forgets_each_record():
    data = pickle.dumps(nb201_obj(), protocol=2)
    plain = pickle._Unpickler(io.BytesIO(data))
    plain.load()
    condensed = []
    up = bm._StreamingUnpickler(io.BytesIO(data), lambda r: condensed.append(1) or ("x",))
    obj = up.load()
    assert up.records == len(SOME) == len(condensed)
    assert all(obj["arch2infos"][i] == {bm._REDUCED: ("x",)} for i in SOME)
    assert obj["meta_archs"] == META  # shared strings survive the pruning
    assert len(up.memo) < 0.2 * len(plain.memo), (len(up.memo), len(plain.memo))


def test_streaming_reports_objects_shared_across_records(tmp_path):
    shared_key = "x-test@199"  # one str object used by every record: pruned after the first

    def rec(i):
        r = nb201_record(i)
        for res in r["full"]["all_results"].values():
            acc = res["eval_acc1es"]
            if "x-test@199" in acc:
                v = acc.pop("x-test@199")
                acc[shared_key] = v
        return r

    src = write_nb201(tmp_path / "shared.pth", obj=nb201_obj(record=rec))
    with pytest.raises(bm.BenchmarkError, match="re-run with stream=False"):
        bm.read_official(src, indices=SOME, progress=False)
    df, _ = bm.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(df)


def test_import_rejects_other_files(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("index,acc\n0,1\n")
    with pytest.raises(bm.BenchmarkError, match="is not in either official format"):
        bm.read_official(csv, progress=False)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(bm.BenchmarkError, match="not a NATS-Bench archive \\(no meta.pickle.pbz2\\)"):
        bm.read_official(tmp_path / "emptydir", progress=False)
    with pytest.raises(bm.MissingDataError, match="does not exist"):
        bm.read_official(tmp_path / "absent.pth", progress=False)
    src = write_nb201(tmp_path / "a.pth")
    with pytest.raises(bm.BenchmarkError, match="looks like a NAS-Bench-201 .pth file, not a NATS-Bench"):
        bm.read_official(src, fmt="nats", progress=False)
    other = tmp_path / "model.pth"  # a torch file that is not a benchmark
    torch.save({"state_dict": {"w": 1.0}}, other)
    with pytest.raises(bm.BenchmarkError, match="expected a dict with 'meta_archs', 'arch2infos'"):
        bm.read_official(other, progress=False)
    evil = tmp_path / "evil.pth"  # a class outside the allow-list is refused, not constructed
    torch.save({"meta_archs": [], "arch2infos": {}, "when": datetime.date(2020, 1, 1)}, evil,
               _use_new_zipfile_serialization=False)
    with pytest.raises(bm.BenchmarkError, match="refers to datetime.date.*refusing to unpickle"):
        bm.read_official(evil, progress=False)
    trunc = tmp_path / "trunc.pth"
    trunc.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(bm.BenchmarkError, match="truncated or corrupt|not a readable pickle"):
        bm.read_official(trunc, progress=False)


def test_import_nb201_wrong_record_string(tmp_path):
    obj = nb201_obj()
    obj["arch2infos"][7]["full"]["arch_str"] = META[8]
    src = write_nb201(tmp_path / "a.pth", obj=obj)
    with pytest.raises(bm.BenchmarkError, match="the record of index 7 is for"):
        bm.read_official(src, indices=SOME, progress=False)


# ----------------------------------------------------------------------------- official packages (optional)
@pytest.mark.skipif(importlib.util.find_spec("nats_bench") is None, reason="nats_bench not installed (optional)")
def test_official_nats_bench_reads_our_fake_files_identically(tmp_path):
    from nats_bench import create

    src = write_nats_dir(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    api = create(str(src), "tss", fast_mode=True, verbose=False)
    ours, _ = bm.read_official(src, indices=SOME, progress=False)
    for i in SOME:
        assert api.get_more_info(i, "cifar10", hp="200", is_random=False)["test-accuracy"] == ours.loc[i, "cifar10_test_acc"]
        assert api.get_more_info(i, "ImageNet16-120", hp="200", is_random=False)["test-accuracy"] == ours.loc[i, "imagenet16_120_xtest_acc"]
    via_api, meta = bm.read_official(src, indices=SOME, method="api", progress=False)
    pd.testing.assert_frame_equal(via_api, ours)
    assert meta["reader"].startswith("nats_bench")


@pytest.mark.skipif(importlib.util.find_spec("nas_201_api") is None, reason="nas_201_api not installed (optional)")
def test_official_nas_201_api_reads_our_fake_file_identically(tmp_path):
    src = write_nb201(tmp_path / "NAS-Bench-201-v1_1-096897.pth")
    ours, _ = bm.read_official(src, indices=SOME, progress=False)
    try:
        via_api, _ = bm.read_official(src, indices=SOME, method="api", progress=False)
    except pickle.UnpicklingError as e:  # nas_201_api calls torch.load(weights_only default)
        pytest.skip(f"nas_201_api cannot load with this torch: {e}")
    pd.testing.assert_frame_equal(via_api, ours)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real_truth(data_file):
    path = data_file("nb201/nb201_truth.csv.gz")
    return path, pd.read_csv(path)


def test_real_truth_loads_and_validates(real_truth):
    path, _ = real_truth
    df = bm.load_truth(path)
    assert df.shape == (NUM_ARCHS, len(bm.TRUTH_COLUMNS))
    assert (df["index"].to_numpy() == np.arange(NUM_ARCHS)).all() and (df.index == np.arange(NUM_ARCHS)).all()
    assert round(df["cifar10_test_acc"].max(), 2) == 94.37
    assert round(bm.truth_accuracy(df, "cifar100").max(), 2) == 73.51
    assert round(bm.truth_accuracy(df, "ImageNet16-120").max(), 2) == 47.31
    assert df["iso_id"].nunique() == 6466


def _write(df: pd.DataFrame, path: Path) -> Path:
    """Write a corrupt copy as plain CSV (faster than gzip; the loaders read both)."""
    path = path.with_name(path.name.replace(".csv.gz", ".csv"))
    df.to_csv(path, index=False)
    return path


def test_real_truth_corrupt_copies_fail_clearly(real_truth, tmp_path):
    path, raw = real_truth
    with pytest.raises(bm.BenchmarkError, match=r"lacks column\(s\) \['cifar100_xtest_acc'\]; expected \['index', 'arch_str'"):
        bm.load_truth(_write(raw.drop(columns="cifar100_xtest_acc"), tmp_path / "a.csv.gz"))
    swapped = raw.copy()  # two rows exchanged, index column left as it was
    swapped.iloc[[10, 20], 1:] = raw.iloc[[20, 10], 1:].to_numpy()
    with pytest.raises(bm.BenchmarkError, match="wrong index order: row 10 has index 10 but arch_str .* official index 20.* 2 of 15625 rows"):
        bm.load_truth(_write(swapped, tmp_path / "b.csv.gz"))
    garbage = raw.copy()
    garbage.loc[5, "arch_str"] = "|nor_conv_3x3~0|+|nor_conv_3x3~0|"
    with pytest.raises(bm.BenchmarkError, match="row 5 has an arch_str that is not a NAS-Bench-201 cell"):
        bm.load_truth(_write(garbage, tmp_path / "c.csv.gz"))
    nan = raw.copy()
    nan.loc[7, "imagenet16_120_xtest_acc"] = np.nan
    with pytest.raises(bm.BenchmarkError, match="'imagenet16_120_xtest_acc' has 1 NaN value\\(s\\), first at row 7 \\(index 7\\)"):
        bm.load_truth(_write(nan, tmp_path / "d.csv.gz"))
    # whole rows in another order are fine: they are sorted back (each row is self-consistent)
    shuffled = raw.sample(frac=1.0, random_state=np.random.default_rng(0).integers(1 << 31))
    df = bm.load_truth(_write(shuffled, tmp_path / "e.csv.gz"))
    np.testing.assert_array_equal(df["cifar10_test_acc"].to_numpy(), raw["cifar10_test_acc"].to_numpy())


def test_real_hardware_table(data_file, tmp_path):
    path = data_file("nb201/nb201_hw_latency.csv.gz")
    hw = bm.load_hardware(path)
    assert len(hw) == NUM_ARCHS and (hw["index"].to_numpy() == np.arange(NUM_ARCHS)).all()
    cols = bm.latency_columns(hw)
    assert "hwnb_c10_raspi4_latency_ms" in cols and len(cols) >= 10
    assert hw[bm.latency_column(hw, "raspi4")].notna().all()
    assert hw[bm.latency_column(hw, "hwnb_c10_edgegpu")].notna().sum() == 1999
    raw = pd.read_csv(path)
    with pytest.raises(bm.BenchmarkError, match="has neither 'index' nor 'arch_str'"):
        bm.load_hardware(_write(raw.drop(columns=["index", "arch_str"]), tmp_path / "a.csv.gz"))
    bad = raw.astype({"hwnb_c10_pixel3_latency_ms": object})
    bad.loc[3, "hwnb_c10_pixel3_latency_ms"] = "fast"
    with pytest.raises(bm.BenchmarkError, match="'hwnb_c10_pixel3_latency_ms' row 3 \\(index 3\\) holds 'fast', not a number"):
        bm.load_hardware(_write(bad, tmp_path / "b.csv.gz"))


def test_real_ws_table_pairs_with_truth(data_file, real_truth):
    ws = bm.read_arch_table(data_file("nb201/nb201_ws_oneshot.csv.gz"), ["ws_acc"])
    truth = bm.load_truth(real_truth[0])
    s = bm.scores_vs_truth(ws, "ws_acc", truth, "cifar10")
    from predictor.metrics import kendall_tau

    assert kendall_tau(s["pred"].to_numpy(), s["true"].to_numpy()) == pytest.approx(0.485, abs=0.002)


def test_auto_falls_back_to_the_official_package_only_for_unknown_layouts(tmp_path, monkeypatch):
    def odd_record(i):  # hp -> something that is not an ArchResults state
        return OrderedDict({"200": {"results": 1}})

    src = write_nats_dir(tmp_path / "d", indices=[1], record=odd_record)
    calls = []

    def fake_api(p, layout, hp, indices, allow_missing, progress):
        calls.append((layout, hp, indices.tolist()))
        return {1: expected(1)}, {"reader": "stub official API", "missing_indices": []}

    monkeypatch.setattr(bm, "_read_with_official_api", fake_api)
    monkeypatch.setattr(bm, "_official_package_available", lambda fmt: True)
    with pytest.raises(bm.BenchmarkError, match="not a per-architecture record"):
        bm.read_official(src, indices=[1], method="direct", progress=False)
    df, meta = bm.read_official(src, indices=[1], progress=False)
    assert calls == [("nats-dir", "200", [1])] and meta["reader"] == "stub official API"
    assert df.loc[1, "cifar100_xtest_acc"] == expected(1)["cifar100_xtest_acc"]
    monkeypatch.setattr(bm, "_official_package_available", lambda fmt: False)
    with pytest.raises(bm.BenchmarkError, match="not a per-architecture record"):
        bm.read_official(src, indices=[1], progress=False)
