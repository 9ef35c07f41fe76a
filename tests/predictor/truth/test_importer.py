"""The official-file importer, on tiny files written in the official formats (see :mod:`.fakes`)."""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import pickle
from collections import OrderedDict

import pandas as pd
import pytest
import torch

from predictor import truth as T
from predictor.truth import importer, unpickle
from supernet.tables import sidecar_path

from tests.predictor.truth.fakes import (
    META,
    SOME,
    check_values,
    expected,
    nats_record,
    nb201_obj,
    nb201_record,
    write_nats_dir,
    write_nats_file,
    write_nb201,
)


# ----------------------------------------------------------------------------- importer


def test_import_nats_dir(tmp_path):
    src = write_nats_dir(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    assert T.detect_format(src) == ("nats", "nats-dir")
    out = tmp_path / "truth.csv.gz"
    df, meta = T.import_benchmark(src, out, indices=SOME, progress=False)
    check_values(df)
    back = T.load_truth(out, subset=True)  # the written file is a valid truth table
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    side = json.loads(sidecar_path(out).read_text())
    assert side["format"] == "nats" and side["hp"] == "200" and side["is_random"] is False
    assert side["n_archs"] == len(SOME) and side["complete"] is False
    assert len(side["source_digest"]["sha256"]) == 64 and side["source"] == str(src.resolve())
    assert datetime.datetime.fromisoformat(side["created"]).year >= 2024


def test_import_nats_dir_hp12_reads_the_12_epoch_results(tmp_path):
    src = write_nats_dir(tmp_path / "d", indices=[7])
    df, meta = T.read_official(src, indices=[7], hp="12", progress=False)
    assert df.loc[7, "cifar10_test_acc"] == pytest.approx(expected(7, epochs=12)["cifar10_test_acc"])  # epoch 11
    assert expected(7, epochs=12)["cifar10_test_acc"] != expected(7)["cifar10_test_acc"]
    assert meta["hp"] == "12"


def test_import_nats_dir_missing_architectures(tmp_path):
    src = write_nats_dir(tmp_path / "d")
    with pytest.raises(T.BenchmarkError, match=r"15620 of 15625 architectures have no file \(indices 2, 3, 4, 5, 6"):
        T.read_official(src, progress=False)
    with pytest.raises(T.BenchmarkError, match="1 of 2 architectures have no file \\(indices 2; expected e.g. 000002.pickle.pbz2\\)"):
        T.read_official(src, indices=[1, 2], progress=False)
    df, meta = T.read_official(src, indices=[0, 1, 2], allow_missing=True, progress=False)
    assert df["index"].tolist() == [0, 1] and meta["missing_indices"] == [2]


def test_import_nats_dir_wrong_archive_order(tmp_path):
    meta = list(META)
    meta[5], meta[9] = meta[9], meta[5]
    src = write_nats_dir(tmp_path / "d", meta=meta)
    with pytest.raises(T.BenchmarkError, match="disagrees with our official index at position 5: the archive has .*official index 9"):
        T.read_official(src, indices=SOME, progress=False)
    src2 = write_nats_dir(tmp_path / "short", meta=META[:100])
    with pytest.raises(T.BenchmarkError, match="lists 100 architectures, expected 15625"):
        T.read_official(src2, indices=SOME, progress=False)


def test_import_nats_dir_record_errors(tmp_path):
    # a record stored under the wrong file name
    src = write_nats_dir(tmp_path / "d", indices=[1], record=lambda i: nats_record(2))
    with pytest.raises(T.BenchmarkError, match="stored under index 1 says arch_index=2"):
        T.read_official(src, indices=[1], progress=False)
    # a dataset missing from the record
    src = write_nats_dir(tmp_path / "e", indices=[1], record=lambda i: nats_record(i, datasets=("cifar10", "cifar100")))
    with pytest.raises(T.BenchmarkError, match="no 'ImageNet16-120' results at hp='200' \\(datasets present: \\['cifar10', 'cifar100'\\]\\)"):
        T.read_official(src, indices=[1], progress=False)

    # a NaN accuracy
    def nan_record(i):
        r = nats_record(i)
        r["200"]["all_results"][("cifar100", 777)]["eval_acc1es"]["x-test@199"] = float("nan")
        return r

    src = write_nats_dir(tmp_path / "f", indices=[1], record=nan_record)
    with pytest.raises(T.BenchmarkError, match="architecture 1 has a non-finite cifar100_xtest_acc"):
        T.read_official(src, indices=[1], progress=False)


def test_import_nats_single_file_stream_and_whole(tmp_path):
    src = write_nats_file(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    assert T.detect_format(src) == ("nats", "nats-file")
    a, meta = T.read_official(src, indices=SOME, progress=False)
    b, _ = T.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(a)
    pd.testing.assert_frame_equal(a, b)
    assert meta["reader"] == "nasgcn streaming unpickler" and meta["evaluated_indexes"] == len(SOME)


@pytest.mark.parametrize("legacy", [True, False])
def test_import_nb201_pth(tmp_path, legacy):
    src = write_nb201(tmp_path / "NAS-Bench-201-v1_1-096897.pth", legacy=legacy)
    assert T.detect_format(src) == ("nb201", "nb201-legacy" if legacy else "nb201-zip")
    out = tmp_path / "t.csv"
    a, meta = T.import_benchmark(src, out, fmt="nb201", indices=SOME, progress=False)
    b, _ = T.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(a)
    pd.testing.assert_frame_equal(a, b)
    assert meta["source_digest"]["bytes"] == src.stat().st_size
    assert pd.read_csv(out)["index"].tolist() == SOME
    with pytest.raises(T.BenchmarkError, match="missing from 'arch2infos' \\(indices 2, 3, 4, 5, 6"):
        T.read_official(src, progress=False)


def test_streaming_unpickler_forgets_each_record():
    data = pickle.dumps(nb201_obj(), protocol=2)
    plain = pickle._Unpickler(io.BytesIO(data))
    plain.load()
    condensed = []
    up = unpickle.StreamingUnpickler(io.BytesIO(data), lambda r: condensed.append(1) or ("x",))
    obj = up.load()
    assert up.records == len(SOME) == len(condensed)
    assert all(obj["arch2infos"][i] == {unpickle.REDUCED: ("x",)} for i in SOME)
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
    with pytest.raises(T.BenchmarkError, match="re-run with stream=False"):
        T.read_official(src, indices=SOME, progress=False)
    df, _ = T.read_official(src, indices=SOME, stream=False, progress=False)
    check_values(df)


def test_import_rejects_other_files(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("index,acc\n0,1\n")
    with pytest.raises(T.BenchmarkError, match="is not in either official format"):
        T.read_official(csv, progress=False)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(T.BenchmarkError, match="not a NATS-Bench archive \\(no meta.pickle.pbz2\\)"):
        T.read_official(tmp_path / "emptydir", progress=False)
    with pytest.raises(T.MissingDataError, match="does not exist"):
        T.read_official(tmp_path / "absent.pth", progress=False)
    src = write_nb201(tmp_path / "a.pth")
    with pytest.raises(T.BenchmarkError, match="looks like a NAS-Bench-201 .pth file, not a NATS-Bench"):
        T.read_official(src, fmt="nats", progress=False)
    other = tmp_path / "model.pth"  # a torch file that is not a benchmark
    torch.save({"state_dict": {"w": 1.0}}, other)
    with pytest.raises(T.BenchmarkError, match="expected a dict with 'meta_archs', 'arch2infos'"):
        T.read_official(other, progress=False)
    evil = tmp_path / "evil.pth"  # a class outside the allow-list is refused, not constructed
    torch.save({"meta_archs": [], "arch2infos": {}, "when": datetime.date(2020, 1, 1)}, evil,
               _use_new_zipfile_serialization=False)
    with pytest.raises(T.BenchmarkError, match="refers to datetime.date.*refusing to unpickle"):
        T.read_official(evil, progress=False)
    trunc = tmp_path / "trunc.pth"
    trunc.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(T.BenchmarkError, match="truncated or corrupt|not a readable pickle"):
        T.read_official(trunc, progress=False)


def test_import_nb201_wrong_record_string(tmp_path):
    obj = nb201_obj()
    obj["arch2infos"][7]["full"]["arch_str"] = META[8]
    src = write_nb201(tmp_path / "a.pth", obj=obj)
    with pytest.raises(T.BenchmarkError, match="the record of index 7 is for"):
        T.read_official(src, indices=SOME, progress=False)


# ----------------------------------------------------------------------------- official packages (optional)


@pytest.mark.skipif(importlib.util.find_spec("nats_bench") is None, reason="nats_bench not installed (optional)")
def test_official_nats_bench_reads_our_fake_files_identically(tmp_path):
    from nats_bench import create

    src = write_nats_dir(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    api = create(str(src), "tss", fast_mode=True, verbose=False)
    ours, _ = T.read_official(src, indices=SOME, progress=False)
    for i in SOME:
        assert api.get_more_info(i, "cifar10", hp="200", is_random=False)["test-accuracy"] == ours.loc[i, "cifar10_test_acc"]
        assert api.get_more_info(i, "ImageNet16-120", hp="200", is_random=False)["test-accuracy"] == ours.loc[i, "imagenet16_120_xtest_acc"]
    via_api, meta = T.read_official(src, indices=SOME, method="api", progress=False)
    pd.testing.assert_frame_equal(via_api, ours)
    assert meta["reader"].startswith("nats_bench")


@pytest.mark.skipif(importlib.util.find_spec("nas_201_api") is None, reason="nas_201_api not installed (optional)")
def test_official_nas_201_api_reads_our_fake_file_identically(tmp_path):
    src = write_nb201(tmp_path / "NAS-Bench-201-v1_1-096897.pth")
    ours, _ = T.read_official(src, indices=SOME, progress=False)
    try:
        via_api, _ = T.read_official(src, indices=SOME, method="api", progress=False)
    except pickle.UnpicklingError as e:  # nas_201_api calls torch.load(weights_only default)
        pytest.skip(f"nas_201_api cannot load with this torch: {e}")
    pd.testing.assert_frame_equal(via_api, ours)


def test_auto_falls_back_to_the_official_package_only_for_unknown_layouts(tmp_path, monkeypatch):
    def odd_record(i):  # hp -> something that is not an ArchResults state
        return OrderedDict({"200": {"results": 1}})

    src = write_nats_dir(tmp_path / "d", indices=[1], record=odd_record)
    calls = []

    def fake_api(p, layout, hp, indices, allow_missing, progress):
        calls.append((layout, hp, indices.tolist()))
        return {1: expected(1)}, {"reader": "stub official API", "missing_indices": []}

    monkeypatch.setattr(importer, "_read_with_official_api", fake_api)
    monkeypatch.setattr(importer, "_official_package_available", lambda fmt: True)
    with pytest.raises(T.BenchmarkError, match="not a per-architecture record"):
        T.read_official(src, indices=[1], method="direct", progress=False)
    df, meta = T.read_official(src, indices=[1], progress=False)
    assert calls == [("nats-dir", "200", [1])] and meta["reader"] == "stub official API"
    assert df.loc[1, "cifar100_xtest_acc"] == expected(1)["cifar100_xtest_acc"]
    monkeypatch.setattr(importer, "_official_package_available", lambda fmt: False)
    with pytest.raises(T.BenchmarkError, match="not a per-architecture record"):
        T.read_official(src, indices=[1], progress=False)
