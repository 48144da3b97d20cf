import math

import pytest
import torch

from graphnets.protein import (
    NUM_NODE_FEATURES,
    collate_residue_graphs,
    parse_pdb,
    residue_graph,
    synthetic_native,
)
from tests.graphnets.protein._pdbtext import three_residues


def test_cutoff_graph_symmetric_and_sorted():
    s = synthetic_native(30, torch.Generator().manual_seed(0))
    rg = residue_graph(s, order=3, cutoff=8.0)
    dense = rg.graph.to_dense()
    assert torch.equal(dense, dense.T) and not bool(dense.diagonal().any())
    d = torch.cdist(s.ca, s.ca)
    off = ~torch.eye(30, dtype=torch.bool)
    assert torch.equal(dense.bool(), (d < 8.0) & off)
    assert rg.sh.shape == (rg.graph.num_edges, 9) and rg.x.shape == (30, NUM_NODE_FEATURES)
    assert rg.sh.dtype == torch.float32 and rg.order == 3


def test_edge_norm_mean_rows_sum_to_y00_and_none_is_raw():
    s = synthetic_native(25, torch.Generator().manual_seed(1))
    mean = residue_graph(s, order=2, dtype=torch.float64)
    raw = residue_graph(s, order=2, dtype=torch.float64, edge_norm="none")
    y00 = 1 / math.sqrt(4 * math.pi)
    row_sum = torch.zeros(25, dtype=torch.float64).index_add_(0, mean.graph.row, mean.sh[:, 0])
    torch.testing.assert_close(row_sum, torch.full((25,), y00, dtype=torch.float64))
    torch.testing.assert_close(raw.sh[:, 0], torch.full((raw.graph.num_edges,), y00, dtype=torch.float64))
    coeff = torch.rand(raw.graph.num_edges, dtype=torch.float64)
    weighted = residue_graph(s, order=2, dtype=torch.float64, edge_norm="none", edge_coefficient=coeff)
    torch.testing.assert_close(weighted.sh, raw.sh * coeff[:, None])
    with pytest.raises(ValueError, match="edge_norm must be"):
        residue_graph(s, edge_norm="sym")
    with pytest.raises(ValueError, match="edge_coefficient must have shape"):
        residue_graph(s, edge_coefficient=torch.ones(3))


def test_node_features_one_hot_and_geometry():
    s = parse_pdb(three_residues())
    rg = residue_graph(s, order=2, cutoff=5.0, dtype=torch.float64)
    assert rg.x[:, :20].argmax(1).tolist() == [7, 0, 17] and rg.x[:, :20].sum(1).tolist() == [1.0, 1.0, 1.0]
    # chain 0-1-2 with CA 3.8 apart: contacts 1, 2, 1
    torch.testing.assert_close(rg.x[:, 20] * 16, torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64))
    assert bool(((rg.x[:, 22] >= 0) & (rg.x[:, 22] <= 1)).all())


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a ProteinStructure"):
        residue_graph("1abc.pdb")
    s = synthetic_native(5, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="cutoff must be a positive"):
        residue_graph(s, cutoff=0)
    with pytest.raises(ValueError, match="need at least one graph"):
        collate_residue_graphs([])
    with pytest.raises(ValueError, match="share the SH order"):
        collate_residue_graphs([residue_graph(s, order=2), residue_graph(s, order=3)])


def test_collate_is_block_diagonal():
    g = torch.Generator().manual_seed(2)
    a = residue_graph(synthetic_native(10, g), order=2)
    b = residue_graph(synthetic_native(7, g), order=2)
    ab = collate_residue_graphs(
        [a.with_labels(torch.zeros(10), torch.zeros(1)), b.with_labels(torch.ones(7), torch.ones(1))]
    )
    dense = ab.graph.to_dense()
    torch.testing.assert_close(dense[:10, :10], a.graph.to_dense())
    torch.testing.assert_close(dense[10:, 10:], b.graph.to_dense())
    assert dense[:10, 10:].abs().sum() == 0 and ab.batch.tolist() == [0] * 10 + [1] * 7
    assert ab.num_graphs == 2 and ab.y.shape == (17,) and ab.y_global.tolist() == [0.0, 1.0]
