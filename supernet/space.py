"""The NAS-Bench-201 cell search space: the one architecture type of the toolkit.

A cell is a DAG on 4 nodes (0 = input, 3 = output) with one operation on each of the 6 edges
(0,1), (0,2), (1,2), (0,3), (1,3), (2,3).  Operations are keyed by NAME; the integer codes below
are the official NAS-Bench-201 order and are only used for compact storage.

The official index (0..15624) is not lexicographic: NAS-Bench-201 generated the architectures in
nested order (edge (0,1) outermost, edge (2,3) innermost, ops in official order) and then shuffled
that list once with Python's ``random.seed(88); random.shuffle(...)``.  We replay that shuffle with
a private ``random.Random(88)`` instance, so no benchmark file is needed to map strings to indices.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = [
    "OPS",
    "EDGES",
    "NUM_EDGES",
    "NUM_OPS",
    "NUM_ARCHS",
    "Arch",
    "all_archs",
    "ops_matrix",
    "index_to_lex",
    "lex_to_index",
    "codes_to_indices",
    "iso_ids",
    "unique_strs",
    "degenerate_mask",
    "parse_arch",
    "parse_pattern",
    "format_pattern",
    "pattern_mask",
]

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Operation names in the official NAS-Bench-201 order (code = position)."""
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""Edges (from_node, to_node) in the official order of the arch string."""
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
NUM_ARCHS = NUM_OPS**NUM_EDGES  # 15,625
_OP_CODE = {name: code for code, name in enumerate(OPS)}
_SHUFFLE_SEED = 88  # NAS-Bench-201's own seed for the official order
_LEX_WEIGHTS = np.array([NUM_OPS ** (NUM_EDGES - 1 - k) for k in range(NUM_EDGES)], dtype=np.int64)

_FORMAT_HINT = (
    "expected the official NAS-Bench-201 form "
    "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in " + ", ".join(OPS)
)
_NODE_RE = re.compile(r"^\|(.*)\|$")


class ArchError(ValueError):
    """A malformed or unknown architecture (string, index or op tuple)."""


def clip_text(v: Any, limit: int = 80) -> str:
    """``repr(v)`` cut to ``limit`` characters with an ellipsis, so a long input is echoed only in part."""
    r = repr(v.item() if isinstance(v, np.generic) else v)
    return r if len(r) <= limit else r[: limit - 1] + "\u2026"


@dataclass(frozen=True, order=True, slots=True)
class Arch:
    """One NAS-Bench-201 cell: the op name on each of the 6 edges, in :data:`EDGES` order.

    Immutable, hashable and ordered (lexicographically by op code), so it can key dicts and sets.
    Build it with :meth:`from_str`, :meth:`from_index`, :meth:`from_ops` or :func:`parse_arch`.
    """

    codes: tuple[int, ...]

    def __post_init__(self) -> None:
        c = self.codes
        if not isinstance(c, tuple) or len(c) != NUM_EDGES or not all(
            isinstance(x, (int, np.integer)) and 0 <= x < NUM_OPS for x in c
        ):
            raise ArchError(
                f"an architecture needs {NUM_EDGES} op codes in 0..{NUM_OPS - 1} "
                f"(official order {', '.join(OPS)}), got {c!r}"
            )
        if not all(type(x) is int for x in c):
            object.__setattr__(self, "codes", tuple(int(x) for x in c))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_ops(cls, ops: Sequence[str | int]) -> "Arch":
        """From 6 op names (or official op codes) in edge order (0,1),(0,2),(1,2),(0,3),(1,3),(2,3)."""
        if isinstance(ops, str) or len(ops) != NUM_EDGES:
            raise ArchError(f"an op tuple needs {NUM_EDGES} entries in edge order {EDGES}, got {ops!r}")
        codes = []
        for op in ops:
            if isinstance(op, str):
                if op not in _OP_CODE:
                    raise ArchError(f"unknown operation {op!r}; known: {', '.join(OPS)}")
                codes.append(_OP_CODE[op])
            elif isinstance(op, (int, np.integer)) and not isinstance(op, bool) and 0 <= op < NUM_OPS:
                codes.append(int(op))
            else:
                raise ArchError(f"unknown operation {op!r}; use a name ({', '.join(OPS)}) or a code 0..4")
        return cls(tuple(codes))

    @classmethod
    def from_str(cls, text: str) -> "Arch":
        """Parse the official string, e.g. ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~2|``."""
        return cls(tuple(_parse_ops(text, wildcard=False)))  # type: ignore[arg-type]

    @classmethod
    def from_index(cls, index: int) -> "Arch":
        """The architecture at an official NAS-Bench-201 index (0..15624)."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < NUM_ARCHS:
            raise ArchError(f"official index must be an integer in 0..{NUM_ARCHS - 1}, got {index!r}")
        return _ALL()[int(index)]

    @classmethod
    def from_lex(cls, lex: int) -> "Arch":
        """From the nested-order position (edge (0,1) most significant, base 5)."""
        return cls(tuple(int(x) for x in np.unravel_index(int(lex), (NUM_OPS,) * NUM_EDGES)))

    # ------------------------------------------------------------------ views
    @property
    def ops(self) -> tuple[str, ...]:
        """Op names in edge order."""
        return tuple(OPS[c] for c in self.codes)

    @property
    def lex(self) -> int:
        """Position in nested (lexicographic-by-code) order."""
        return int(np.dot(self.codes, _LEX_WEIGHTS))

    @property
    def index(self) -> int:
        """The official NAS-Bench-201 / NATS-Bench topology index."""
        return int(_PERM()[1][self.lex])

    def to_str(self) -> str:
        """The official arch string."""
        o = self.ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    def __str__(self) -> str:
        return self.to_str()

    def __repr__(self) -> str:
        return f"Arch('{self.to_str()}')"

    def op_on(self, src: int, dst: int) -> str:
        """Op name on edge ``src -> dst``."""
        try:
            return OPS[self.codes[EDGES.index((src, dst))]]
        except ValueError:
            raise ArchError(f"no edge ({src},{dst}); edges are {EDGES}") from None

    def count(self, op: str) -> int:
        """How many edges carry ``op``."""
        if op not in _OP_CODE:
            raise ArchError(f"unknown operation {op!r}; known: {', '.join(OPS)}")
        return self.codes.count(_OP_CODE[op])

    # ------------------------------------------------------------------ structure
    def live_edges(self) -> tuple[bool, ...]:
        """Per edge: does it lie on a path input -> output through non-``none`` edges?

        Edges that are not live contribute nothing (or a constant zero) to the cell output, so a
        sub-network can skip them.
        """
        c = self.codes
        active = [x != 0 for x in c]
        fwd = {0}
        for k, (i, j) in enumerate(EDGES):  # EDGES is topologically sorted by destination
            if active[k] and i in fwd:
                fwd.add(j)
        bwd = {3}
        for k in reversed(range(NUM_EDGES)):
            i, j = EDGES[k]
            if active[k] and j in bwd:
                bwd.add(i)
        return tuple(active[k] and EDGES[k][0] in fwd and EDGES[k][1] in bwd for k in range(NUM_EDGES))

    @property
    def is_degenerate(self) -> bool:
        """True when the cell output is disconnected from its input (the net then outputs a constant)."""
        return not any(self.live_edges())

    def unique_str(self) -> str:
        """NAS-Bench-201's canonical string: isomorphic / functionally equal cells share it.

        Reproduces the benchmark's rule: a ``none`` edge, or any edge leaving a node whose expression
        is exactly ``#`` (zero), contributes ``#``; ``skip_connect`` passes its input's expression through; any other op wraps it as ``(expr)@op``; the inputs of a node
        are sorted and joined with ``+`` (sum is commutative).  This is the benchmark's canonical
        form, not a complete functional-equivalence test: a ``#`` term entering a node is kept, so e.g.
        swapping two parallel paths across a ``none`` edge (1,2) can yield two classes.  We keep the
        official partition (6,466 classes) so ``iso_id`` agrees with NAS-Bench-201.
        """
        nodes = ["0"]
        k = 0
        for dst in range(1, 4):
            terms = []
            for src in range(dst):
                op = OPS[self.codes[k]]
                k += 1
                if op == "none" or nodes[src] == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(nodes[src])
                else:
                    terms.append(f"({nodes[src]})@{op}")
            nodes.append("+".join(sorted(terms)))
        return nodes[3]

    @property
    def iso_id(self) -> int:
        """Integer id of :meth:`unique_str`, numbered by first appearance in official index order."""
        return int(iso_ids()[self.index])


def parse_arch(value: "Arch | str | int | Sequence[str | int]") -> Arch:
    """Coerce a string, official index, op tuple (names or codes) or Arch to :class:`Arch`."""
    if isinstance(value, Arch):
        return value
    if isinstance(value, str):
        v = value.strip()
        if v.lstrip("-").isdigit():
            return Arch.from_index(int(v))
        if "|" not in v and "~" not in v:  # e.g. "1e3", "3.0", "abc": no attempt at an arch string
            raise ArchError(
                f"{clip_text(value)} is neither an official index (an integer 0..{NUM_ARCHS - 1}) nor an arch "
                f"string ({_FORMAT_HINT.split('form ', 1)[-1]})"
            )
        return Arch.from_str(v)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Arch.from_index(int(value))
    if isinstance(value, (tuple, list, np.ndarray)):
        return Arch.from_ops(list(value))
    raise ArchError(f"cannot read an architecture from {clip_text(value)}: give an arch string, an index or 6 ops")


# ---------------------------------------------------------------------- whole-space tables
@functools.lru_cache(maxsize=1)
def _PERM() -> tuple[np.ndarray, np.ndarray]:
    """(index_to_lex, lex_to_index), each int64[15625]: the replayed official shuffle."""
    order = list(range(NUM_ARCHS))
    random.Random(_SHUFFLE_SEED).shuffle(order)
    i2l = np.asarray(order, dtype=np.int64)
    l2i = np.empty_like(i2l)
    l2i[i2l] = np.arange(NUM_ARCHS, dtype=np.int64)
    i2l.setflags(write=False)
    l2i.setflags(write=False)
    return i2l, l2i


def index_to_lex() -> np.ndarray:
    """int64[15625]: nested-order position of each official index (read-only)."""
    return _PERM()[0]


def lex_to_index() -> np.ndarray:
    """int64[15625]: official index of each nested-order position (read-only)."""
    return _PERM()[1]


@functools.lru_cache(maxsize=1)
def ops_matrix() -> np.ndarray:
    """int8[15625, 6]: official op codes of every architecture, rows in official index order."""
    lex = index_to_lex()
    m = np.stack([(lex // w) % NUM_OPS for w in _LEX_WEIGHTS], axis=1).astype(np.int8)
    m.setflags(write=False)
    return m


@functools.lru_cache(maxsize=1)
def _ALL() -> tuple[Arch, ...]:
    return tuple(Arch(tuple(int(x) for x in row)) for row in ops_matrix().tolist())


def all_archs() -> tuple[Arch, ...]:
    """All 15,625 architectures in official index order."""
    return _ALL()


def codes_to_indices(codes: np.ndarray) -> np.ndarray:
    """Vectorised op-code rows (int[n, 6]) -> official indices (int64[n]); raises on bad codes."""
    c = np.asarray(codes)
    if c.ndim != 2 or c.shape[1] != NUM_EDGES:
        raise ArchError(f"op-code array must have shape (n, {NUM_EDGES}), got {c.shape}")
    if c.size and (c.min() < 0 or c.max() >= NUM_OPS):
        raise ArchError(f"op codes must lie in 0..{NUM_OPS - 1} (official order {', '.join(OPS)})")
    return lex_to_index()[c.astype(np.int64) @ _LEX_WEIGHTS]


@functools.lru_cache(maxsize=1)
def unique_strs() -> tuple[str, ...]:
    """The benchmark's canonical string of every architecture, official index order."""
    return tuple(a.unique_str() for a in _ALL())


@functools.lru_cache(maxsize=1)
def iso_ids() -> np.ndarray:
    """int64[15625]: isomorphism-class id per official index (6,466 classes, first-appearance order)."""
    ids: dict[str, int] = {}
    out = np.fromiter((ids.setdefault(u, len(ids)) for u in unique_strs()), dtype=np.int64, count=NUM_ARCHS)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=1)
def degenerate_mask() -> np.ndarray:
    """bool[15625]: True where the cell output is disconnected from the input (341 cells)."""
    out = np.fromiter((a.is_degenerate for a in _ALL()), dtype=bool, count=NUM_ARCHS)
    out.setflags(write=False)
    return out


def _parse_ops(text: str, *, wildcard: bool) -> list[int | None]:
    """Op codes of an arch string in edge order; ``*`` (only when ``wildcard``) gives None."""
    if not isinstance(text, str):
        raise ArchError(f"an architecture string must be str, got {type(text).__name__}; {_FORMAT_HINT}")
    s = text.strip()
    parts = s.split("+")
    if len(parts) != 3:
        raise ArchError(f"{clip_text(text)} has {len(parts)} node groups separated by '+', not 3; {_FORMAT_HINT}")
    codes: list[int | None] = []
    for node, part in enumerate(parts, start=1):
        m = _NODE_RE.match(part)
        if m is None:
            raise ArchError(f"node {node} group {clip_text(part)} of {clip_text(text)} is not enclosed in '|'; {_FORMAT_HINT}")
        items = m.group(1).split("|")
        if len(items) != node:
            raise ArchError(f"node {node} of {clip_text(text)} has {len(items)} inputs, needs {node}; {_FORMAT_HINT}")
        for src, item in enumerate(items):
            op, sep, idx = item.partition("~")
            if not sep or idx != str(src):
                raise ArchError(f"input {clip_text(item)} of node {node} in {clip_text(text)} should be 'op~{src}'; {_FORMAT_HINT}")
            if wildcard and op == "*":
                codes.append(None)
            elif op in _OP_CODE:
                codes.append(_OP_CODE[op])
            else:
                known = ", ".join(OPS) + (" or * (any op)" if wildcard else "")
                raise ArchError(f"unknown operation {clip_text(op)} in {clip_text(text)}; known: {known}")
    return codes


def parse_pattern(text: str) -> tuple[int | None, ...]:
    """An architecture pattern: the official string with ``*`` for any op, e.g.
    ``|nor_conv_3x3~0|+|*~0|*~1|+|*~0|*~1|*~2|`` (edge (0,1) fixed to 3x3 conv).  Returns the op code
    per edge, None where any op matches."""
    return tuple(_parse_ops(text, wildcard=True))


def format_pattern(codes: Sequence[int | None]) -> str:
    """Inverse of :func:`parse_pattern`."""
    if len(codes) != NUM_EDGES:
        raise ArchError(f"a pattern has {NUM_EDGES} edges, got {len(codes)}")
    o = ["*" if c is None else OPS[c] for c in codes]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def pattern_mask(text: str) -> np.ndarray:
    """bool[15625] in official index order: which architectures match the pattern (see :func:`parse_pattern`)."""
    codes = parse_pattern(text)
    m = ops_matrix()
    keep = np.ones(NUM_ARCHS, dtype=bool)
    for k, c in enumerate(codes):
        if c is not None:
            keep &= m[:, k] == c
    return keep
