"""Explicit, checksum-verified download of the official CIFAR-10 python archive (no loader downloads)."""

from __future__ import annotations

import hashlib
import logging
import os
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..hashing import file_digest
from .batches import ARCHIVE_NAME, BATCH_DIR, check_batch_dir
from .images import ChecksumError, CorruptDataError, DataError

__all__ = ["CIFAR10_URL", "CIFAR10_MD5", "download_cifar10"]

logger = logging.getLogger(__name__)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
"""MD5 of the official ``cifar-10-python.tar.gz`` (as published on the CIFAR page)."""


def download_cifar10(
    root: str | os.PathLike,
    url: str = CIFAR10_URL,
    md5: str | None = CIFAR10_MD5,
    *,
    extract: bool = True,
    force: bool = False,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``cifar-10-python.tar.gz`` into ``root``, verify its MD5 and (by default) extract it.

    Only ever called explicitly: no loader downloads anything. An archive already in ``root`` with the
    right checksum is reused unless ``force``. The download goes to a ``.part`` file renamed only after
    the checksum matched, so an interrupted or corrupt download never looks complete.

    Returns:
        ``root/cifar-10-batches-py`` when ``extract`` (checked to hold all six batches), else the archive path.

    Raises:
        ChecksumError: the MD5 differs (the bad file is deleted).
        DataError: the URL cannot be fetched.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / ARCHIVE_NAME
    if archive.is_file() and not force and (md5 is None or file_digest(archive, "md5") == md5):
        logger.info("reusing %s (checksum ok)", archive)
    else:
        part = archive.with_name(archive.name + ".part")
        h = hashlib.md5()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc="CIFAR-10", disable=not progress) as bar:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError) as e:
            part.unlink(missing_ok=True)
            raise DataError(
                f"cannot download {url}: {e}. Check the URL and the network, or put {ARCHIVE_NAME} "
                f"(or the extracted {BATCH_DIR}/) into {root} by hand"
            ) from e
        got = h.hexdigest()
        if md5 is not None and got != md5:
            part.unlink(missing_ok=True)
            raise ChecksumError(
                f"{url} downloaded with MD5 {got}, expected {md5}: the file is corrupt or not the official "
                f"archive; it was deleted. Retry, or pass the right md5= for a mirror"
            )
        os.replace(part, archive)
        logger.info("downloaded %s (%s)", archive, got)
    if not extract:
        return archive
    try:
        with tarfile.open(archive, "r:*") as tf:
            tf.extractall(root, filter="data")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CorruptDataError(f"cannot extract {archive}: {e}; delete it and download again") from e
    out = root / BATCH_DIR
    check_batch_dir(out)
    return out

