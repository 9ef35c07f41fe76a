"""The ``nasgcn`` command line: parse arguments, call the library, print.

Every subcommand prints a readable summary and, with ``--json``, one JSON document instead.
Errors in user input (bad architecture, missing file, wrong columns) exit with status 2 and a
one-line message, never a traceback.  ``output`` holds what commands share, ``supernet_commands`` and
``table_commands`` the handlers, ``parser`` the argument parser.
"""

from __future__ import annotations

import logging
import os
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
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly, as a killed pipe writer does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain either
        return 141
    except (UserError, DataError, ValueError, KeyError, OSError) as e:
        print(f"nasgcn: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasgcn: interrupted; completed outputs were kept", file=sys.stderr)
        return 130


def _one_line(e: BaseException) -> str:
    """The message of a user-facing error on one line (an OSError names its file)."""
    if isinstance(e, KeyError) and e.args:
        msg = str(e.args[0])
    elif isinstance(e, OSError) and not isinstance(e, FileNotFoundError) and e.strerror:
        where = f": {e.filename}" if e.filename else ""
        msg = f"{e.strerror}{where}" + (f" -> {e.filename2}" if e.filename2 else "")
    else:
        msg = str(e)
    return " ".join(msg.split()) or type(e).__name__
