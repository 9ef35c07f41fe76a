"""The ``nasgcn`` command line: parse arguments, call the library, print.

Every subcommand prints a readable summary and, with ``--json``, one JSON document instead.
Errors in user input (bad architecture, missing file, wrong columns) exit with status 2 and a
one-line message, never a traceback.  ``output`` holds what commands share, ``supernet_commands`` and
``table_commands`` the handlers, ``parser`` the argument parser.
"""

from __future__ import annotations

import logging
import sys
from typing import Sequence

from supernet.paths import DataError

from .output import UserError
from .parser import build_parser

__all__ = ["main", "build_parser", "UserError"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasgcn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except (UserError, DataError, ValueError, FileNotFoundError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"nasgcn: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasgcn: interrupted; completed outputs were kept", file=sys.stderr)
        return 130
