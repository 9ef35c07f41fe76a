"""What every ``nasgcn`` command shares: the user-error type, text/JSON output, the ``--json`` flag."""

from __future__ import annotations

import argparse
import json
from typing import Any

from supernet.fileio import jsonable

__all__ = ["UserError", "emit", "fmt_metrics", "add_json"]


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(jsonable(payload), indent=2))
    else:
        print(text)


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
