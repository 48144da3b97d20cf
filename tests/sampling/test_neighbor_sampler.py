"""sampling.NeighborSampler: distribution (chi-square), equality with the per-node reference, errors."""

import itertools

import pytest
import torch
from scipy import stats

from sampling import Block, Graph, NeighborSampler, powerlaw_community_graph
from sampling.neighbor_reference import neighbor_sample_reference


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random_graph(n: int = 60, e: int = 400, seed: int = 0) -> Graph:
    g = _gen(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return Graph.from_edge_index(ei, num_nodes=n)


def _star_rows(num_rows: int, degree: int) -> Graph:
    """``num_rows`` destinations, each with ``degree`` distinct in-neighbours (all other nodes are leaves)."""
    n = num_rows + degree * num_rows
    indptr = torch.zeros(n + 1, dtype=torch.int64)
    indptr[1 : num_rows + 1] = torch.arange(1, num_rows + 1) * degree
    indptr[num_rows + 1 :] = num_rows * degree
    indices = torch.arange(num_rows, num_rows + num_rows * degree)
    return Graph(indptr, indices)


def _assert_blocks_equal(ours: list[Block], ref: list[Block]) -> None:
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert torch.equal(a.src_nodes, b.src_nodes)
        assert torch.equal(a.graph.indptr, b.graph.indptr)
        assert torch.equal(a.graph.indices, b.graph.indices)
        assert torch.equal(a.edge_ids, b.edge_ids)
        assert a.num_dst == b.num_dst


# --- distribution ---------------------------------------------------------------------------
@pytest.mark.parametrize("degree, fanout", [(10, 3), (7, 6), (40, 5)])
def test_each_neighbour_drawn_with_probability_fanout_over_degree(degree, fanout):
    rows, repeats = 400, 10
    graph = _star_rows(rows, degree)
    sampler = NeighborSampler(graph, [fanout])
    counts = torch.zeros(degree)
    for r in range(repeats):
        (block,) = sampler.sample_blocks(torch.arange(rows), _gen(r))
        assert torch.equal(block.graph.indptr, torch.arange(rows + 1) * fanout)  # exactly k per destination
        pos = block.edge_ids - graph.indptr[:rows].repeat_interleave(fanout)  # position within the row
        per_row = pos.view(rows, fanout)
        assert bool((per_row[:, 1:] > per_row[:, :-1]).all())  # distinct and sorted
        counts += torch.bincount(pos, minlength=degree).float()
    trials = rows * repeats
    expected = torch.full((degree,), trials * fanout / degree)
    p = stats.chisquare(counts.numpy(), expected.numpy()).pvalue
    assert p > 1e-3, f"neighbour frequencies deviate from fanout/degree (chi-square p={p:.2e})"


def test_without_replacement_draws_uniform_subsets():
    degree, fanout, rows = 5, 2, 3000
    graph = _star_rows(rows, degree)
    (block,) = NeighborSampler(graph, [fanout]).sample_blocks(torch.arange(rows), _gen(1))
    pos = (block.edge_ids - graph.indptr[:rows].repeat_interleave(fanout)).view(rows, fanout)
    subsets = list(itertools.combinations(range(degree), fanout))
    code = {s: i for i, s in enumerate(subsets)}
    counts = torch.bincount(torch.tensor([code[tuple(r)] for r in pos.tolist()]), minlength=len(subsets))
    p = stats.chisquare(counts.numpy()).pvalue
    assert p > 1e-3, f"k-subsets are not uniform (chi-square p={p:.2e})"


def test_with_replacement_draws_uniform_independent_positions():
    degree, fanout, rows = 6, 4, 2000
    graph = _star_rows(rows, degree)
    (block,) = NeighborSampler(graph, [fanout], replace=True).sample_blocks(torch.arange(rows), _gen(2))
    pos = block.edge_ids - graph.indptr[:rows].repeat_interleave(fanout)
    counts = torch.bincount(pos, minlength=degree)
    assert stats.chisquare(counts.numpy()).pvalue > 1e-3
    repeats = (pos.view(rows, fanout).diff(dim=1) == 0).any(1).float().mean()
    expected = 1 - (6 * 5 * 4 * 3) / 6**4  # P(some position repeats among 4 draws of 6)
    assert abs(float(repeats) - expected) < 0.04


def test_hubs_cost_fanout_not_degree_and_stay_uniform():
    degree = 100_000
    graph = _star_rows(1, degree)
    (block,) = NeighborSampler(graph, [8]).sample_blocks(torch.tensor([0]), _gen(3))
    assert block.num_edges == 8 and block.edge_ids.unique().numel() == 8
    assert int(block.edge_ids.max()) < degree


# --- equality with the per-node reference ---------------------------------------------------
@pytest.mark.parametrize("fanouts", [[-1], [-1, -1], [50, 50, -1]])
def test_full_neighbourhoods_equal_the_reference(fanouts):
    graph = _random_graph()
    seeds = torch.tensor([5, 0, 17, 3])
    ours = NeighborSampler(graph, fanouts).sample_blocks(seeds, _gen())
    _assert_blocks_equal(ours, neighbor_sample_reference(graph, seeds.tolist(), fanouts))


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("fanouts", [[3], [4, 2], [2, 3, 2]])
def test_sampled_blocks_equal_the_reference_replaying_the_picks(fanouts, replace):
    graph = _random_graph(n=80, e=700, seed=4)
    seeds = torch.tensor([9, 1, 33, 40, 2])
    ours = NeighborSampler(graph, fanouts, replace=replace).sample_blocks(seeds, _gen(5))
    indptr = graph.indptr
    picks = {}
    for hop, block in enumerate(reversed(ours)):
        for i, v in enumerate(block.dst_nodes.tolist()):
            eids = block.edge_ids[block.graph.indptr[i] : block.graph.indptr[i + 1]]
            picks[(hop, v)] = (eids - indptr[v]).tolist()

    def choose(hop, v, d, k):
        chosen = picks[(hop, v)]
        if replace:
            assert len(chosen) == (k if d else 0)
        else:
            assert len(chosen) == min(d, k) and len(set(chosen)) == len(chosen)
        assert all(0 <= p < d for p in chosen)
        return chosen

    ref = neighbor_sample_reference(graph, seeds.tolist(), fanouts, replace=replace, choose=choose)
    _assert_blocks_equal(ours, ref)


def test_blocks_nest_and_edges_exist():
    graph, _ = powerlaw_community_graph(20_000, _gen(6))
    seeds = torch.randperm(graph.num_nodes, generator=_gen(7))[:64]
    blocks = NeighborSampler(graph, [10, 5, 3]).sample_blocks(seeds, _gen(8))
    assert torch.equal(blocks[-1].dst_nodes, seeds)
    for inner, outer in zip(blocks[1:], blocks[:-1]):
        assert torch.equal(outer.dst_nodes, inner.src_nodes)
    for block in blocks:
        assert block.src_nodes.unique().numel() == block.num_src
        dst = block.dst_nodes.index_select(0, block.graph.row)
        src = block.src_nodes.index_select(0, block.graph.indices)
        assert torch.equal(graph.indices.index_select(0, block.edge_ids), src)
        assert torch.equal(graph.row.index_select(0, block.edge_ids), dst)


def test_same_generator_state_same_blocks_and_scratch_is_reset():
    graph = _random_graph()
    sampler = NeighborSampler(graph, [3, 3])
    a = sampler.sample_blocks(torch.tensor([1, 2, 3]), _gen(9))
    b = sampler.sample_blocks(torch.tensor([1, 2, 3]), _gen(9))
    _assert_blocks_equal(a, b)
    assert bool((sampler._scratch.get(graph.num_nodes, sampler.device) == -1).all())


def test_bipartite_khop_alternates_users_and_items():
    users = torch.tensor([0, 0, 1, 2, 2, 3])
    items = torch.tensor([0, 1, 1, 2, 0, 2])
    graph = Graph.bipartite(users, items, 4, 3)
    blocks = NeighborSampler(graph, [-1, -1]).sample_blocks(torch.tensor([0, 3]), _gen())
    hop1 = blocks[-1]
    assert bool((hop1.src_nodes[hop1.num_dst :] >= 4).all())  # users' neighbours are items
    assert set(hop1.src_nodes[hop1.num_dst :].tolist()) == {4, 5, 6}
    hop2 = blocks[0]
    assert set(hop2.src_nodes[hop2.num_dst :].tolist()) == {1, 2}  # the items' other users


def test_pyg_data_input_keeps_edge_permutation():
    from torch_geometric.data import Data

    ei = torch.tensor([[2, 0, 1, 2], [0, 1, 0, 1]])
    sampler = NeighborSampler(Data(edge_index=ei, num_nodes=3), [-1])
    (block,) = sampler.sample_blocks(torch.tensor([0, 1]), _gen())
    cols = sampler.edge_permutation.index_select(0, block.edge_ids)
    assert torch.equal(ei[0, cols], block.src_nodes[block.graph.indices])
    assert torch.equal(ei[1, cols], block.dst_nodes[block.graph.row])


def test_subgraph_mode_expands_only_new_nodes():
    graph = _random_graph(n=50, e=300, seed=10)
    seeds = torch.tensor([4, 7])
    node, row, col, edge, num_nodes, num_edges = NeighborSampler(graph, [-1, -1]).sample_subgraph(seeds, _gen())
    assert torch.equal(node[:2], seeds) and node.unique().numel() == node.numel()
    assert sum(num_nodes) == node.numel() and sum(num_edges) == edge.numel()
    assert torch.equal(graph.indices[edge], node[row]) and torch.equal(graph.row[edge], node[col])
    # hop 2 expands exactly the nodes new at hop 1, each with its whole neighbourhood
    hop2_dst = col[num_edges[0] :].unique()
    assert set(hop2_dst.tolist()) <= set(range(num_nodes[0], num_nodes[0] + num_nodes[1]))
    deg = graph.indptr[1:] - graph.indptr[:-1]
    assert num_edges[1] == int(deg[node[num_nodes[0] : num_nodes[0] + num_nodes[1]]].sum())


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fanouts, error, match",
    [
        ([0], ValueError, r"fan-out must be >= 1, or -1 .*\(got 0\)"),
        ([5, -2], ValueError, r"\(got -2\)"),
        ([2.5], TypeError, "fanouts must be ints"),
        ([], TypeError, "non-empty sequence"),
        (3, TypeError, "non-empty sequence"),
    ],
)
def test_bad_fanouts(fanouts, error, match):
    with pytest.raises(error, match=match):
        NeighborSampler(_random_graph(), fanouts)


def test_bad_seeds():
    sampler = NeighborSampler(_random_graph(n=60), [2])
    with pytest.raises(ValueError, match=r"sample_blocks: seeds must lie in \[0, 60\) \(got min 0, max 60"):
        sampler.sample_blocks(torch.tensor([0, 60]))
    with pytest.raises(ValueError, match=r"got min -1"):
        sampler.sample_blocks(torch.tensor([-1]))
    with pytest.raises(ValueError, match=r"seeds must be unique \(got 1 repeated"):
        sampler.sample_blocks(torch.tensor([3, 4, 3]))
    with pytest.raises(TypeError, match="1-D int64/int32"):
        sampler.sample_blocks(torch.tensor([1.0]))
    (block,) = sampler.sample_blocks(torch.tensor([3, 4]), _gen())  # the failed calls left no state behind
    assert block.num_dst == 2


def test_bad_graphs():
    with pytest.raises(TypeError, match="sampling.Graph or a torch_geometric Data"):
        NeighborSampler("graph", [2])
    rect = Graph(torch.tensor([0, 1]), torch.tensor([2]), num_cols=3)
    with pytest.raises(ValueError, match="square"):
        NeighborSampler(rect, [2])


def test_empty_seeds_and_isolated_nodes():
    graph = Graph(torch.zeros(4, dtype=torch.int64), torch.empty(0, dtype=torch.int64))
    blocks = NeighborSampler(graph, [3, -1]).sample_blocks(torch.tensor([2, 0]), _gen())
    assert [b.num_edges for b in blocks] == [0, 0] and blocks[0].num_src == 2
    blocks = NeighborSampler(_random_graph(), [3], replace=True).sample_blocks(torch.empty(0, dtype=torch.int64))
    assert blocks[0].num_dst == 0 and blocks[0].num_edges == 0


@pytest.mark.cuda
@pytest.mark.parametrize("structure", ["cuda", "pinned"])
def test_gpu_sampling_equals_cpu_structure_and_reference(structure):
    graph = _random_graph(n=200, e=3000, seed=11)
    seeds = torch.tensor([3, 50, 199, 0])
    sampler = NeighborSampler(graph, [-1, -1], device="cuda", structure=structure)
    blocks = [b.to("cpu") for b in sampler.sample_blocks(seeds.cuda(), torch.Generator("cuda").manual_seed(0))]
    _assert_blocks_equal(blocks, neighbor_sample_reference(graph, seeds.tolist(), [-1, -1]))
    sampled = sampler.sample_blocks(seeds, torch.Generator("cuda").manual_seed(0))
    assert sampled[-1].device.type == "cuda"
    sampler.close()
