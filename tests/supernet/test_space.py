"""The search space: official index, strings, op tuples, iso classes, degenerate cells."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supernet.space import (
    EDGES,
    NUM_ARCHS,
    OPS,
    Arch,
    ArchError,
    all_archs,
    codes_to_indices,
    degenerate_mask,
    iso_ids,
    ops_matrix,
    parse_arch,
    unique_strs,
)

# Pinned by NAS-Bench-201's own generation script (its asserts on the shuffled list).
OFFICIAL = {
    0: "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    9: "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    123: "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|",
}


@pytest.mark.parametrize("index,text", sorted(OFFICIAL.items()))
def test_official_index_pins(index: int, text: str) -> None:
    assert Arch.from_index(index).to_str() == text
    assert Arch.from_str(text).index == index


def test_all_archs_distinct_and_complete() -> None:
    archs = all_archs()
    assert len(archs) == NUM_ARCHS == 15625
    assert len(set(archs)) == NUM_ARCHS
    assert [a.index for a in archs[:50]] == list(range(50))
    m = ops_matrix()
    assert m.shape == (NUM_ARCHS, 6)
    assert np.array_equal(codes_to_indices(m), np.arange(NUM_ARCHS))


def test_roundtrip_all_fast() -> None:
    t0 = time.perf_counter()
    strs = [a.to_str() for a in all_archs()]
    idx = [Arch.from_str(s).index for s in strs]
    back = [Arch.from_index(i).to_str() for i in idx]
    elapsed = time.perf_counter() - t0
    assert idx == list(range(NUM_ARCHS))
    assert back == strs
    assert elapsed < 2.0, f"both-way conversion of the space took {elapsed:.2f}s"


def test_ops_by_name_and_code() -> None:
    a = Arch.from_ops(["nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"])
    assert a.ops[0] == "nor_conv_3x3" and a.codes == (3, 0, 1, 4, 2, 3)
    assert Arch.from_ops(a.codes) == a
    assert a.op_on(1, 2) == "skip_connect"
    assert a.count("nor_conv_3x3") == 2
    assert parse_arch(a.to_str()) == parse_arch(a.index) == parse_arch(str(a.index)) == parse_arch(list(a.ops)) == a
    assert hash(a) == hash(Arch.from_str(a.to_str()))
    with pytest.raises(ArchError, match="no edge"):
        a.op_on(0, 0)


def test_iso_and_degenerate_counts() -> None:
    assert len(np.unique(iso_ids())) == 6466
    assert int(degenerate_mask().sum()) == 341
    # a cell whose output only sees 'none' is degenerate; a skip path is not
    assert Arch.from_ops(["nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "none", "none", "none"]).is_degenerate
    assert not Arch.from_ops(["none"] * 3 + ["skip_connect", "none", "none"]).is_degenerate
    # input->1 dead (none), 1->3 conv: edge (1,3) is not live
    a = Arch.from_ops(["none", "nor_conv_3x3", "none", "none", "nor_conv_3x3", "nor_conv_3x3"])
    assert a.live_edges() == (False, True, False, False, False, True)


def test_isomorphic_cells_share_class() -> None:
    # conv3x3 on 0->3, or skip 0->1 then conv3x3 on 1->3: the same function, one class
    a = Arch.from_ops(["none", "none", "none", "nor_conv_3x3", "none", "none"])
    b = Arch.from_ops(["skip_connect", "none", "none", "none", "nor_conv_3x3", "none"])
    assert a != b and a.unique_str() == b.unique_str() and a.iso_id == b.iso_id
    # sum is commutative: the order of a node's inputs does not matter
    c = Arch.from_ops(["nor_conv_1x1", "none", "none", "nor_conv_3x3", "skip_connect", "none"])
    d = Arch.from_ops(["nor_conv_3x3", "none", "none", "nor_conv_1x1", "skip_connect", "none"])
    assert c.iso_id == d.iso_id
    e = Arch.from_ops(["nor_conv_1x1", "none", "none", "nor_conv_1x1", "skip_connect", "none"])
    assert e.iso_id != c.iso_id


@pytest.mark.parametrize(
    "bad,msg",
    [
        ("", "node groups"),
        ("|nor_conv_3x3~0|+|none~0|none~1|", "node groups"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "should be 'op~0'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "has 1 inputs, needs 2"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "not enclosed"),
    ],
)
def test_malformed_strings(bad: str, msg: str) -> None:
    with pytest.raises(ArchError, match=msg):
        Arch.from_str(bad)


@pytest.mark.parametrize("bad", [-1, 15625, 2.0, True, "15625", None, ("none",) * 5, ("none",) * 7, ("x",) * 6])
def test_bad_index_and_ops(bad) -> None:
    with pytest.raises(ArchError):
        parse_arch(bad)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("|+~0123_nonekipcvrx3av ")), max_size=80) | st.text(max_size=60))
def test_random_strings_only_raise_value_error(text: str) -> None:
    try:
        a = Arch.from_str(text)
    except ValueError as e:
        assert str(e)
    else:
        assert Arch.from_str(a.to_str()) == a


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(OPS), min_size=6, max_size=6))
def test_any_op_tuple_roundtrips(ops: list[str]) -> None:
    a = Arch.from_ops(ops)
    assert Arch.from_index(a.index) == a
    assert Arch.from_str(a.to_str()).ops == tuple(ops)


def test_against_truth_table(truth_csv) -> None:
    df = pd.read_csv(truth_csv)
    assert len(df) == NUM_ARCHS
    assert np.array_equal(df["index"].to_numpy(), np.arange(NUM_ARCHS))
    assert df["arch_str"].tolist() == [a.to_str() for a in all_archs()]
    cols = [f"op_e{i}{j}" for i, j in EDGES]
    assert np.array_equal(df[cols].to_numpy(), ops_matrix())
    assert df["unique_str"].tolist() == list(unique_strs())
    assert np.array_equal(df["iso_id"].to_numpy(), iso_ids())
    acc = df["cifar10_test_acc"].to_numpy()
    assert (acc[degenerate_mask()] < 10.5).all()
    assert (acc[~degenerate_mask()] > 10.5).all()
