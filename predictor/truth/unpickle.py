"""A restricted unpickler for the official benchmark files, and a streaming one that condenses as it reads.

These files come from the internet, so only an allow-list of classes is honoured (containers, numpy
scalars and arrays); tensors and storages become opaque placeholders and anything else is refused.
:class:`StreamingUnpickler` replaces each per-architecture record by a condensed value as soon as the
record is complete, so a multi-gigabyte single-file benchmark is read in about one record's memory.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict, defaultdict
from typing import Any, Callable

import numpy as np

from supernet.tables import BenchmarkError

try:
    from numpy._core import multiarray as _multiarray  # numpy >= 2
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]

__all__ = ["SafeUnpickler", "PySafeUnpickler", "StreamingUnpickler", "REDUCED", "is_record"]


class _Opaque:
    """Placeholder for an object the truth table does not need (tensors, storages)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "_Opaque":
        return _Opaque()

    def __setstate__(self, state: Any) -> None:
        pass

    def __repr__(self) -> str:
        return "<opaque>"


def _numpy_global(module: str, name: str) -> Any:
    """The numpy object a pickle names (dtype, ndarray, or a multiarray reconstructor)."""
    if name == "dtype":
        return np.dtype
    if name == "ndarray":
        return np.ndarray
    return getattr(_multiarray, name)


_SAFE_GLOBALS: dict[tuple[str, str], Callable[[str, str], Any]] = {
    ("collections", "OrderedDict"): lambda m, n: OrderedDict,
    ("collections", "defaultdict"): lambda m, n: defaultdict,
    **{("builtins", n): (lambda m, n: __import__("builtins").__dict__[n])
       for n in ("set", "frozenset", "list", "dict", "tuple", "int", "float", "str", "bytes", "bool", "complex")},
    **{(m, n): _numpy_global for m in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
       for n in ("scalar", "_reconstruct", "dtype", "ndarray")},
}
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def _allowed_global(module: str, name: str) -> Any:
    module = _PY2_MODULES.get(module, module)
    if (module, name) in _SAFE_GLOBALS:
        return _SAFE_GLOBALS[(module, name)](module, name)
    if module == "torch" or module.startswith("torch."):
        return _Opaque  # tensors/storages: not needed for the truth table
    raise BenchmarkError(
        f"the pickle refers to {module}.{name}, which no official NAS-Bench-201 / NATS-Bench file "
        f"contains; refusing to unpickle it (not an official file, or a version this importer does not know)"
    )


class SafeUnpickler(pickle.Unpickler):
    """C unpickler restricted to :data:`_SAFE_GLOBALS`; tensors become placeholders."""

    def find_class(self, module: str, name: str) -> Any:
        return _allowed_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return _Opaque()


class PySafeUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Pure-Python twin of :class:`SafeUnpickler`: reads exactly what it needs, no read-ahead."""

    def find_class(self, module: str, name: str) -> Any:
        return _allowed_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return _Opaque()


_PRUNABLE = (dict, OrderedDict, list, tuple, set, frozenset)
REDUCED = "__nasgcn_reduced__"  # key under which a condensed record replaces the raw one


def is_record(d: Any) -> bool:
    """A per-architecture record: a small mapping hp -> ArchResults-state."""
    if not isinstance(d, dict) or not 0 < len(d) <= 8:
        return False
    return any(isinstance(v, dict) and "all_results" in v and "dataset_seed" in v for v in d.values())


class StreamingUnpickler(PySafeUnpickler):
    """Pure-Python unpickler that condenses each architecture record as soon as it is complete.

    A record (``{'less': state, 'full': state}`` or ``{'12': state, '200': state}``) is recognised
    when its own SETITEMS completes; it is replaced in place by ``{REDUCED: condense(record)}``
    and the containers and ``'<set>@<epoch>'`` keys memoized while it was read are dropped from the
    memo, so the raw record can be freed.  Everything else stays: the objects a pickle may share
    between records (classes such as OrderedDict, numpy dtypes, interned attribute names, dataset
    names, arch strings also listed in ``meta_archs``).  Should a later record refer to a dropped
    object after all, unpickling stops with an error (see :func:`read_official`, ``stream=False``).
    """

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: Any, condense: Callable[[dict], Any]) -> None:
        super().__init__(file)
        self._condense = condense
        self._fresh: list[int] = []
        self._memo_next = 0
        self.records = 0

    def _put(self, i: int) -> None:
        self.memo[i] = self.stack[-1]
        self._fresh.append(i)
        if i >= self._memo_next:
            self._memo_next = i + 1

    def load_put(self) -> None:
        i = int(self.readline()[:-1])
        if i < 0:
            raise pickle.UnpicklingError("negative PUT argument")
        self._put(i)

    def load_binput(self) -> None:
        self._put(self.read(1)[0])

    def load_long_binput(self) -> None:
        (i,) = struct.unpack("<I", self.read(4))
        self._put(i)

    def load_memoize(self) -> None:
        self._put(self._memo_next)

    def load_setitem(self) -> None:
        stack = self.stack
        value = stack.pop()
        key = stack.pop()
        stack[-1][key] = value
        self._after_setitems(stack[-1])

    def load_setitems(self) -> None:
        items = self.pop_mark()
        d = self.stack[-1]
        for i in range(0, len(items), 2):
            d[items[i]] = items[i + 1]
        self._after_setitems(d)

    def _after_setitems(self, d: Any) -> None:
        if not is_record(d):
            return
        reduced = self._condense(d)
        d.clear()
        d[REDUCED] = reduced
        self.records += 1
        memo, fresh = self.memo, self._fresh
        start = next((k for k, i in enumerate(fresh) if memo.get(i) is d), None)
        if start is not None:
            for i in fresh[start:]:
                o = memo[i]
                if type(o) in _PRUNABLE or (type(o) is str and "@" in o):
                    del memo[i]
        self._fresh = []

    for _op, _fn in (
        (pickle.PUT, load_put), (pickle.BINPUT, load_binput), (pickle.LONG_BINPUT, load_long_binput),
        (pickle.MEMOIZE, load_memoize), (pickle.SETITEM, load_setitem), (pickle.SETITEMS, load_setitems),
    ):
        dispatch[_op[0]] = _fn
    del _op, _fn
