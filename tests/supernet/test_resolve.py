"""The one converter of many architectures (any form) to official indices."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from supernet.resolve import arch_strs, lookup_strs, parse_many, to_indices
from supernet.space import NUM_ARCHS, Arch, ArchError, all_archs


def test_to_indices_accepts_every_form():
    a = all_archs()[123]
    got = to_indices([a, a.to_str(), 123, a.ops, list(a.codes), str(123)])
    assert got.tolist() == [123] * 6
    assert to_indices(np.array([5, 6])).tolist() == [5, 6]
    assert to_indices(np.array([a.codes])).tolist() == [123]
    with pytest.raises(ArchError, match="entry 1"):
        to_indices([1, "|nope~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(ArchError):
        to_indices(np.array([NUM_ARCHS]))
    with pytest.raises(ArchError, match="sequence"):
        to_indices(a.to_str())


def test_to_indices_vectorised_forms_and_errors():
    a = all_archs()
    assert to_indices(np.array([a[i].codes for i in (10, 20)])).tolist() == [10, 20]
    assert to_indices(np.array([a[i].ops for i in (30, 40)])).tolist() == [30, 40]
    assert to_indices([a[7].codes, a[8].codes]).tolist() == [7, 8]  # op-code tuples of Python ints
    assert to_indices(pd.Series([3, 4])).tolist() == [3, 4]
    assert to_indices(pd.Series([a[3].to_str(), " " + a[4].to_str(), "12"])).tolist() == [3, 4, 12]
    assert to_indices([a[5].to_str(), (a[6].ops)]).tolist() == [5, 6]  # ragged mix: one by one
    assert to_indices([]).dtype == np.int64 and to_indices([]).size == 0
    with pytest.raises(ArchError, match="entry 1: official index must be in 0..15624, got 15625"):
        to_indices([0, NUM_ARCHS])
    with pytest.raises(ArchError, match="unknown operation 'conv'"):
        to_indices(np.array([["conv"] * 6]))
    with pytest.raises(ArchError, match="entry 1 .*nor_conv_5x5"):
        to_indices([a[0].to_str(), "|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(ArchError, match="sequence"):
        to_indices(a[0])


def test_arch_strs_and_lookup_strs():
    s = arch_strs()
    assert s.shape == (NUM_ARCHS,) and s[123] == all_archs()[123].to_str()
    assert not s.flags.writeable
    assert lookup_strs([s[9], "x", None, 5, " " + s[9]]).tolist() == [9, -1, -1, -1, -1]


def test_million_strings_resolve_well_under_a_second_each_way():
    ids = np.random.default_rng(0).integers(0, NUM_ARCHS, 1_000_000)
    strs = arch_strs()[ids]
    t0 = time.perf_counter()
    got = to_indices(strs)
    t_str = time.perf_counter() - t0
    assert np.array_equal(got, ids)
    assert t_str < 10.0, t_str  # about 0.2 s; generous: the CPU is shared


def test_parse_many_names_position() -> None:
    with pytest.raises(ArchError, match="entry 1"):
        parse_many([0, "garbage", 3])
    assert parse_many(iter([3, all_archs()[4].to_str()])) == [all_archs()[3], all_archs()[4]]
    assert parse_many([Arch.from_index(8)]) == [Arch.from_index(8)]
