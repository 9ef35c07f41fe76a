"""Tiny files in the official NATS-Bench / NAS-Bench-201 formats (fake but well-formed metrics).

A NATS-Bench ``-simple`` directory of bz2 pickles, a NATS-Bench single ``.pickle.pbz2`` file and
NAS-Bench-201 ``.pth`` files saved by ``torch.save`` (legacy and zip serialization), for a handful of
architectures, with the accuracies the importer must read from them.
"""

from __future__ import annotations

import bz2
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from predictor import truth as T
from supernet import space
from supernet.space import NUM_ARCHS, Arch

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
    assert list(df.columns) == list(T.TRUTH_COLUMNS)
    for i in indices:
        for col, v in expected(i).items():
            assert df.loc[i, col] == pytest.approx(v, abs=1e-12), (i, col)
        assert df.loc[i, "arch_str"] == META[i]
        assert df.loc[i, "iso_id"] == space.iso_ids()[i]
        assert tuple(df.loc[i, list(T.OP_COLUMNS)]) == Arch.from_index(i).codes


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a corrupt copy as plain CSV (faster than gzip; the loaders read both)."""
    path = path.with_name(path.name.replace(".csv.gz", ".csv"))
    df.to_csv(path, index=False)
    return path
