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
