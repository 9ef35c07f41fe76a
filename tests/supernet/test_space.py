"""The search space: official index, strings, op tuples, iso classes, degenerate cells."""

from __future__ import annotations

import itertools

import networkx as nx
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


def test_roundtrip_all() -> None:
    strs = [a.to_str() for a in all_archs()]
    idx = [Arch.from_str(s).index for s in strs]
    back = [Arch.from_index(i).to_str() for i in idx]
    assert idx == list(range(NUM_ARCHS))
    assert back == strs


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



# ---------------------------------------------------------------------------------------------- networkx cross-checks
_NODE_MATCH = nx.algorithms.isomorphism.categorical_node_match("label", None)
_EDGE_MATCH = nx.algorithms.isomorphism.categorical_edge_match("op", None)


def _cell_dag(a: Arch) -> nx.DiGraph:
    """The cell as a DAG: nodes 0..3 (0 input, 3 output, labelled so isomorphisms fix them), one edge per
    non-``none`` op, labelled with the op."""
    g = nx.DiGraph()
    g.add_nodes_from((n, {"label": "in" if n == 0 else "out" if n == 3 else "mid"}) for n in range(4))
    g.add_edges_from((i, j, {"op": op}) for (i, j), op in zip(EDGES, a.ops) if op != "none")
    return g


def _expr(a: Arch, *, flatten: bool) -> tuple:
    """The cell output as an expression, nested tuples ``(label, *children)``, built with NAS-Bench-201's
    rules: a ``none`` edge, or any edge out of a node that is exactly zero, is a ``#`` leaf;
    ``skip_connect`` passes its input's expression; another op wraps it; a node sums its inputs.
    ``flatten`` merges a sum passed through a skip into the enclosing sum (sum is associative)."""
    expr: list[tuple] = [("x",)]
    codes = iter(a.ops)
    for dst in range(1, 4):
        terms: list[tuple] = []
        for src in range(dst):
            op, e = next(codes), expr[src]
            if op == "none" or e == ("#",):
                terms.append(("#",))
            elif op == "skip_connect":
                terms += list(e[1:]) if flatten and e[0] == "+" else [e]
            else:
                terms.append((op, e))
        expr.append(terms[0] if len(terms) == 1 else ("+", *terms))
    return expr[3]


def _expr_tree(a: Arch, *, flatten: bool) -> nx.Graph:
    """:func:`_expr` as a networkx tree, nodes labelled x, #, op names, + (the root's label marked, so
    labelled isomorphism of these undirected trees is rooted-tree isomorphism)."""
    g = nx.Graph()
    ids = itertools.count()

    def add(e: tuple, parent: int | None) -> None:
        n = next(ids)
        g.add_node(n, label=e[0] if parent is not None else "root:" + e[0])
        if parent is not None:
            g.add_edge(parent, n)
        for c in e[1:]:
            add(c, n)

    add(_expr(a, flatten=flatten), None)
    return g


def _iso(g: nx.Graph, h: nx.Graph) -> bool:
    return nx.is_isomorphic(g, h, node_match=_NODE_MATCH, edge_match=_EDGE_MATCH)


def test_live_edges_and_degenerate_agree_with_networkx_paths() -> None:
    deg = np.zeros(NUM_ARCHS, dtype=bool)
    for a in all_archs():
        g = _cell_dag(a)
        from_input = nx.descendants(g, 0) | {0}
        to_output = nx.ancestors(g, 3) | {3}
        live = tuple(g.has_edge(i, j) and i in from_input and j in to_output for i, j in EDGES)
        assert a.live_edges() == live, a
        deg[a.index] = not nx.has_path(g, 0, 3)
        assert a.is_degenerate == deg[a.index], a
    assert np.array_equal(degenerate_mask(), deg) and int(deg.sum()) == 341


def test_iso_ids_lie_between_nested_and_flattened_expression_tree_isomorphism() -> None:
    """The official partition (6,466 classes) is finer than isomorphism of the flattened expression trees
    and coarser than isomorphism of the nested ones: nested-isomorphic => same iso_id => flat-isomorphic.
    Checked on sampled pairs: members of one class, random pairs and 1<->2-relabelled (DAG-isomorphic) pairs."""
    archs, ids = all_archs(), iso_ids()
    rng = np.random.default_rng(0)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(ids.tolist()):
        members.setdefault(c, []).append(i)
    multi = [m for m in members.values() if len(m) > 1]
    same = [tuple(rng.choice(multi[k], 2, replace=False)) for k in rng.choice(len(multi), 300, replace=False)]
    rand = [tuple(p) for p in rng.integers(0, NUM_ARCHS, (300, 2)) if ids[p[0]] != ids[p[1]]]

    def relabel(a: Arch) -> Arch:  # swap nodes 1 and 2; a cell isomorphism when edge (1,2) is none
        c = a.codes
        return Arch((c[1], c[0], 0, c[3], c[5], c[4]))

    swaps = [(a.index, relabel(a).index) for a in archs if a.codes[2] == 0 and relabel(a) != a]
    swaps = [swaps[k] for k in rng.choice(len(swaps), 300, replace=False)]
    nested_iso_pairs = 0
    for i, j in same + rand + swaps:
        a, b = archs[i], archs[j]
        if _iso(_expr_tree(a, flatten=False), _expr_tree(b, flatten=False)):
            nested_iso_pairs += 1
            assert ids[i] == ids[j], (a, b)
        if ids[i] == ids[j]:
            assert _iso(_expr_tree(a, flatten=True), _expr_tree(b, flatten=True)), (a, b)
    assert nested_iso_pairs > 100  # the first implication was really exercised
    # every sampled relabelled pair is an isomorphism of the cell DAG (input and output kept in place)
    assert all(_iso(_cell_dag(archs[i]), _cell_dag(archs[j])) for i, j in swaps)


def test_where_iso_ids_differ_from_graph_isomorphism() -> None:
    """The three ways NAS-Bench-201's canonical string departs from isomorphism, one pinned pair each."""
    # 1. same class, nested trees differ: a sum passed on by a skip edge merges into the next sum
    a = Arch.from_str("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    b = Arch.from_str("|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_1x1~0|nor_conv_1x1~1|skip_connect~2|")
    assert a.iso_id == b.iso_id
    assert not _iso(_expr_tree(a, flatten=False), _expr_tree(b, flatten=False))
    assert _iso(_expr_tree(a, flatten=True), _expr_tree(b, flatten=True))
    # 2. flattened trees agree, classes differ: only the top-level terms are sorted, not the merged ones
    a = Arch.from_str("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    b = Arch.from_str("|skip_connect~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|")
    assert _iso(_expr_tree(a, flatten=True), _expr_tree(b, flatten=True))
    assert a.unique_str() == "#+(0)@avg_pool_3x3+(0)@nor_conv_1x1+(0)@nor_conv_3x3"
    assert b.unique_str() == "#+(0)@nor_conv_1x1+(0)@avg_pool_3x3+(0)@nor_conv_3x3"
    assert a.iso_id != b.iso_id
    # 3. isomorphic cells (nodes 1 and 2 swapped, no 1->2 edge), two classes: a zero entering node 2 is kept
    a = Arch.from_str("|nor_conv_3x3~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    b = Arch.from_str("|none~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    assert _iso(_cell_dag(a), _cell_dag(b)) and a.iso_id != b.iso_id
    # and the simple case the canonical form exists for: conv on 0->3 vs skip then conv
    a = Arch.from_ops(["none", "none", "none", "nor_conv_3x3", "none", "none"])
    b = Arch.from_ops(["skip_connect", "none", "none", "none", "nor_conv_3x3", "none"])
    assert not _iso(_cell_dag(a), _cell_dag(b))
    assert _iso(_expr_tree(a, flatten=False), _expr_tree(b, flatten=False)) and a.iso_id == b.iso_id


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
