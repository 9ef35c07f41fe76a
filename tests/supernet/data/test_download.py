"""Explicit CIFAR-10 download from a local server: checksum, errors that leave nothing behind; loaders never download."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest

from supernet.data import (
    ChecksumError,
    DataError,
    MissingDataError,
    download_cifar10,
    load_cifar10,
    load_cifar10_batches,
)
from supernet.data import download as download_mod
from tests.supernet.data.helpers import make_archive


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture()
def http_root(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    t = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    t.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_with_checksum_from_local_server(batches, http_root, tmp_path):
    src_root, raw = batches
    served, base = http_root
    arc = make_archive(src_root, served / "cifar-10-python.tar.gz")
    md5 = hashlib.md5(arc.read_bytes()).hexdigest()
    dest = tmp_path / "dest"
    out = download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5=md5, progress=False)
    assert out == dest / "cifar-10-batches-py"
    assert (dest / "cifar-10-python.tar.gz").read_bytes() == arc.read_bytes()
    tr = load_cifar10_batches(dest, "train")
    assert np.array_equal(tr.images[0][:, :, 1].ravel(), raw["data_batch_1"][b"data"][0][1024:2048])
    # a second call reuses the verified archive: it works with the server's copy gone
    arc.unlink()
    assert download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5=md5, progress=False) == out


def test_download_md5_mismatch_and_http_error(batches, http_root, tmp_path):
    src_root, _ = batches
    served, base = http_root
    make_archive(src_root, served / "cifar-10-python.tar.gz")
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match="expected 0{32}"):
        download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5="0" * 32, progress=False)
    assert list(dest.iterdir()) == []  # neither the archive nor a .part nor an extraction is left
    with pytest.raises(DataError, match="cannot download .*missing.tar.gz"):
        download_cifar10(dest, url=f"{base}/missing.tar.gz", md5=None, progress=False)
    assert list(dest.iterdir()) == []


def test_loaders_never_download(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a loader tried the network")

    monkeypatch.setattr(download_mod.urllib.request, "urlopen", boom)
    with pytest.raises(MissingDataError, match="download_cifar10"):
        load_cifar10(tmp_path, "train")
