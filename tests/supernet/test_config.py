"""The TOML config loader: defaults, unknown keys, types, replace, dict round trip, hashes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from supernet.hashing import json_digest
from supernet.config import (
    DataConfig,
    EvalConfig,
    LandmarkConfig,
    ModelConfig,
    SamplingConfig,
    SupernetConfig,
    TrainConfig,
    config_from_dict,
    config_hash,
    load_config,
    read_toml,
)

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_are_the_nb201_rsps_protocol() -> None:
    c = SupernetConfig()
    assert (c.model.C, c.model.N, c.model.bn_affine, c.model.track_running_stats) == (16, 5, False, False)
    t = c.train
    assert (t.epochs, t.batch_size, t.lr, t.lr_min, t.momentum, t.nesterov) == (250, 64, 0.025, 0.001, 0.9, True)
    assert (t.weight_decay, t.grad_clip, t.device, t.threads, t.init_from) == (5e-4, 5.0, "auto", None, None)
    assert (c.data.source, c.data.split, c.data.train_limit, c.data.num_classes) == ("cifar10", "nb201", None, 10)
    assert (c.sampling.strategy, c.sampling.exclude_degenerate, c.sampling.archs, c.sampling.restrict) == (
        "uniform", True, (), "")
    assert (c.landmarks.file, c.landmarks.every, c.landmarks.select) == (None, 10, "random")
    assert (c.eval.valid_size, c.eval.batch_size, c.eval.bn_mode, c.eval.bn_batches) == (2000, 500, "recalibrate", 4)


def test_empty_file_and_empty_dict_give_defaults(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, "")) == SupernetConfig()
    assert config_from_dict({}) == SupernetConfig()
    assert config_from_dict({"train": None}) == SupernetConfig()  # an empty section


def test_load_sets_given_keys_and_keeps_other_defaults(tmp_path: Path) -> None:
    p = _write(tmp_path, """
[model]
C = 8
N = 1
[train]
epochs = 3
lr = 0.1
[sampling]
archs = ["|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"]
""")
    c = load_config(p)
    assert (c.model.C, c.model.N) == (8, 1)
    assert (c.train.epochs, c.train.lr) == (3, 0.1)
    assert c.train.batch_size == 64 and c.model.bn_affine is False  # untouched defaults
    assert c.sampling.archs == ("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",)  # list -> tuple
    assert c.data == DataConfig() and c.eval == EvalConfig()


def test_sections_under_supernet_and_later_stages_ignored(tmp_path: Path) -> None:
    p = _write(tmp_path, """
[supernet.model]
C = 4
[supernet.train]
epochs = 2
""")
    c = load_config(p)
    assert (c.model.C, c.train.epochs) == (4, 2)
    p = _write(tmp_path, """
[model]
N = 2
[run]
sample = 10
[predictor]
model = "gcn"
[search]
top = 3
""", "pipeline.toml")
    assert load_config(p).model.N == 2


def test_unknown_key_is_an_error_naming_file_section_and_known_keys(tmp_path: Path) -> None:
    p = _write(tmp_path, "[train]\nepoch = 3\n")
    with pytest.raises(ValueError, match=r"c\.toml: unknown key\(s\) \['epoch'\] in \[train\]; known: epochs, batch_size"):
        load_config(p)
    with pytest.raises(ValueError, match=r"config: unknown key\(s\) \['C_out', 'width'\] in \[model\]"):
        config_from_dict({"model": {"width": 3, "C_out": 1}})


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['trian'\]; known: data, model, train"):
        load_config(_write(tmp_path, "[trian]\nepochs = 3\n"))
    # a stray top-level key is not silently dropped either
    with pytest.raises(ValueError, match=r"unknown section\(s\) \['epochs'\]"):
        load_config(_write(tmp_path, "epochs = 3\n", "top.toml"))


def test_types() -> None:
    # an int where a float is expected becomes a float
    c = config_from_dict({"train": {"lr": 1, "grad_clip": 2}})
    assert c.train.lr == 1.0 and type(c.train.lr) is float and type(c.train.grad_clip) is float
    # booleans and numbers do not pass for each other
    with pytest.raises(ValueError, match=r"\[train\] nesterov must be true or false, got 1"):
        config_from_dict({"train": {"nesterov": 1}})
    with pytest.raises(ValueError, match=r"\[train\] epochs must be an integer, got True"):
        config_from_dict({"train": {"epochs": True}})
    with pytest.raises(ValueError, match=r"\[train\] lr must be a number, got False"):
        config_from_dict({"train": {"lr": False}})
    # None-defaulted fields take whatever is given
    assert config_from_dict({"train": {"threads": 2}}).train.threads == 2


def test_configs_are_frozen() -> None:
    c = SupernetConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.train.epochs = 3  # type: ignore[misc]


def test_replace_changes_only_the_named_fields() -> None:
    base = SupernetConfig()
    c = base.replace(train={"epochs": 3, "lr": 1}, model={"C": 8})
    assert (c.train.epochs, c.train.lr, c.model.C) == (3, 1.0, 8)
    assert type(c.train.lr) is float  # goes through the same type rules
    assert c.train.batch_size == 64 and c.model.N == 5 and c.eval == base.eval
    assert base.train.epochs == 250 and base.model.C == 16  # the original is unchanged
    assert base.replace() == base
    with pytest.raises(ValueError, match=r"unknown config section \[trian\]; known: data, model"):
        base.replace(trian={"epochs": 3})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['epoch'\] in \[train\]"):
        base.replace(train={"epoch": 3})


def test_to_dict_round_trip() -> None:
    c = SupernetConfig(
        data=DataConfig(source="synthetic", train_limit=100),
        model=ModelConfig(C=4, N=1, bn_affine=True),
        train=TrainConfig(epochs=7, lr=0.2, threads=1, init_from="runs/x"),
        sampling=SamplingConfig(strategy="size", archs=("a", "b"), restrict="|*~0|+|*~0|*~1|+|*~0|*~1|*~2|"),
        landmarks=LandmarkConfig(file="lm.csv", limit=20, select="quantile"),
        eval=EvalConfig(valid_size=64, bn_mode="batch"),
    )
    d = c.to_dict()
    assert set(d) == {"data", "model", "train", "sampling", "landmarks", "eval"}
    assert d["sampling"]["archs"] == ["a", "b"]  # tuple -> list: plain JSON
    assert d["train"]["epochs"] == 7 and d["landmarks"]["select"] == "quantile"
    assert json.loads(json.dumps(d)) == d
    back = config_from_dict(d)
    assert back == c and back.sampling.archs == ("a", "b")
    assert config_from_dict(json.loads(json.dumps(d))) == c


def test_read_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.toml not found; shipped configs are in configs/"):
        read_toml(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match=r"bad\.toml is not valid TOML"):
        read_toml(_write(tmp_path, "[train\nepochs = ", "bad.toml"))


@pytest.mark.parametrize(
    "name,expect",
    [
        ("tiny.toml", {"model.C": 8, "model.N": 1, "train.epochs": 2, "train.lr": 0.05, "data.source": "synthetic"}),
        ("demo.toml", {"model.C": 16, "train.epochs": 8, "eval.valid_size": 500, "data.source": "auto"}),
        ("cpu.toml", {"train.epochs": 30, "train.threads": 2, "data.source": "cifar10"}),
        ("gpu-full.toml", {"model.N": 5, "train.epochs": 250, "train.lr": 0.025, "model.track_running_stats": False}),
    ],
)
def test_shipped_configs_load(name: str, expect: dict) -> None:
    c = load_config(REPO / "configs" / name)
    for path, value in expect.items():
        sec, key = path.split(".")
        assert getattr(getattr(c, sec), key) == value, path


def test_hashes() -> None:
    h = json_digest({"a": 1, "b": [1, 2]}, 16)
    assert h == json_digest({"b": [1, 2], "a": 1}, 16)  # key order ignored
    assert len(h) == 16 and int(h, 16) >= 0
    assert h != json_digest({"a": 2, "b": [1, 2]}, 16)
    base = SupernetConfig()
    longer = base.replace(train={"epochs": 251})
    assert config_hash(base) == config_hash(SupernetConfig())
    assert config_hash(base) != config_hash(longer)
    # restricted to some sections: a change elsewhere does not count
    assert config_hash(base, "model", "data") == config_hash(longer, "model", "data")
    assert config_hash(base, "train") != config_hash(longer, "train")
    assert config_hash(base, "model") == json_digest({"model": base.to_dict()["model"]}, 16)


@pytest.mark.parametrize("section,key,value", [("train", "epochs", "3"), ("train", "lr", "fast"), ("model", "C", 2.5)])
def test_wrong_scalar_type_is_an_error(section: str, key: str, value) -> None:
    with pytest.raises(ValueError, match=rf"\[{section}\] {key}"):
        config_from_dict({section: {key: value}})


@pytest.mark.parametrize(
    "toml,message",
    [
        ('[train]\nepochs = "two"', r"\[train\] epochs must be an integer, got 'two'"),
        ("[train]\nepochs = 2.5", r"\[train\] epochs must be an integer, got 2.5"),
        ("[train]\nepochs = 0", r"\[train\] epochs must be >= 1, got 0"),
        ("[train]\nepochs = -3", r"\[train\] epochs must be >= 1, got -3"),
        ("[train]\nlr = nan", r"\[train\] lr must be a finite number, got nan"),
        ("[train]\nlr = inf", r"\[train\] lr must be a finite number, got inf"),
        ("[train]\nlr = 0", r"\[train\] lr must be > 0, got 0.0"),
        ("[train]\nlr = 0.01\nlr_min = 0.1", r"\[train\] lr_min \(0.1\) must be <= lr \(0.01\)"),
        ("[train]\nthreads = 0", r"\[train\] threads must be >= 1, got 0"),
        ("[train]\nbatch_size = 0", r"\[train\] batch_size must be >= 1, got 0"),
        ("[train]\nweight_decay = -1e-4", r"\[train\] weight_decay must be >= 0"),
        ("[train]\nmomentum = 0\nnesterov = true", r"\[train\] nesterov needs momentum > 0"),
        ("[eval]\nbatch_size = 0", r"\[eval\] batch_size must be >= 1, got 0"),
        ("[eval]\nbn_mode = 'running'", r"\[eval\] bn_mode must be one of 'recalibrate', 'batch', got 'running'"),
        ("[model]\nC = 0", r"\[model\] C must be >= 1, got 0"),
        ("[data]\nsource = 'imagenet'", r"\[data\] source must be one of"),
        ("[data]\ntrain_limit = 0", r"\[data\] train_limit must be >= 1, got 0"),
        ("[sampling]\narchs = [1, 2]", r"\[sampling\] archs must be a list of strings, got \[1, 2\]"),
        ("[sampling]\nsteps_per_arch = 0", r"\[sampling\] steps_per_arch must be >= 1"),
        ("[landmarks]\npairs = 0", r"\[landmarks\] pairs must be >= 1"),
        ("train = 3", r"\[train\] must be a table of settings, got 3"),
    ],
)
def test_values_out_of_type_or_range_are_errors_naming_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"c\.toml: " + message):
        load_config(_write(tmp_path, toml + "\n"))


def test_checked_values_are_converted_and_long_values_shown_in_part() -> None:
    c = config_from_dict({"train": {"epochs": 3.0, "lr": 1}, "sampling": {"archs": ["a", "b"]}})
    assert c.train.epochs == 3 and type(c.train.epochs) is int and type(c.train.lr) is float
    assert c.sampling.archs == ("a", "b")
    with pytest.raises(ValueError) as e:
        config_from_dict({"train": {"epochs": "x" * 10_000}})
    assert len(str(e.value)) < 200
    # the Python API is checked as well, not only files
    with pytest.raises(ValueError, match=r"\[train\] epochs must be >= 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match=r"\[train\] lr must be a finite number"):
        SupernetConfig().replace(train={"lr": float("nan")})
