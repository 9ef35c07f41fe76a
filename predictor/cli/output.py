"""What every ``nasgcn`` command shares: the user-error type, text/JSON output, the ``--json`` flag."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from supernet.fileio import to_json, write_csv_atomic

__all__ = ["UserError", "emit", "note", "out_file", "fmt_metrics", "add_json", "add_drop_nonfinite", "write_csv"]


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print ``payload`` as one JSON document (``--json``; NaN/inf as null) or else ``text``."""
    if getattr(args, "json", False):
        print(to_json(payload, indent=2))
    else:
        print(text)


def note(message: str) -> None:
    """A line for the user beside the result (stderr, so ``--json`` output stays one document)."""
    print(f"nasgcn: note: {message}", file=sys.stderr)


def out_file(path: str, flag: str = "--out") -> Path:
    """``path`` as an output file: a directory (or a name ending in a separator) is a :class:`UserError`."""
    p = Path(path)
    if p.is_dir() or path.endswith(("/", os.sep)):
        raise UserError(f"{flag} {path} is a directory; give a file name inside it, e.g. {p / 'table.csv.gz'}")
    return p


def write_csv(df: Any, out: Path) -> None:
    """A CSV output: atomically to a file, straight through to a stream such as /dev/stdout."""
    if out.exists() and not out.is_file():  # a pipe or terminal cannot be replaced by a rename
        df.to_csv(out, index=False)
    else:
        write_csv_atomic(df, out, index=False, compression="infer" if out.suffix == ".gz" else None)


def add_drop_nonfinite(p: argparse.ArgumentParser) -> None:
    p.add_argument("--drop-nonfinite", action="store_true",
                   help="drop rows holding NaN/inf where a value is needed (and say how many) instead of refusing "
                        "the table")


def fmt_metrics(metrics: dict[str, Any]) -> str:
    width = max(len(k) for k in metrics)
    lines = []
    for k, v in metrics.items():
        if isinstance(v, float):
            v = f"{v:.4f}"
        lines.append(f"  {k:<{width}}  {v}")
    return "\n".join(lines)


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
