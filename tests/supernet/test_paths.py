"""The data root: ``$NASGCN_DATA`` when set, else the repository's ``data/``."""

from __future__ import annotations

from supernet import paths


def test_data_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NASGCN_DATA", str(tmp_path))
    assert paths.data_root() == tmp_path
    assert paths.data_path("nb201", "x.csv") == tmp_path / "nb201" / "x.csv"
    monkeypatch.delenv("NASGCN_DATA")
    assert paths.data_root() == paths.REPO_ROOT / "data"
    assert (paths.REPO_ROOT / "supernet" / "paths.py").is_file()


def test_one_missing_data_error_for_every_layer(tmp_path):
    import pytest

    import predictor.truth
    import supernet.data
    import supernet.tables

    assert supernet.tables.MissingDataError is paths.MissingDataError
    assert supernet.data.MissingDataError is paths.MissingDataError
    assert predictor.truth.MissingDataError is paths.MissingDataError
    assert issubclass(supernet.data.CorruptDataError, paths.DataError)
    with pytest.raises(paths.DataError, match="ground-truth table not found"):  # a table reader's error ...
        supernet.tables.require_file(tmp_path / "nope.csv", "ground-truth table")
    with pytest.raises(paths.MissingDataError, match="does not exist"):  # the image loaders raise the same class
        supernet.data.load_cifar10(tmp_path / "nope")
