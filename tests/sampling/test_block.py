"""sampling.Block: sizes, destinations first, clear errors."""

import pytest
import torch

from sampling import Block, Graph


def _graph() -> Graph:
    # 2 destinations, 3 sources: dst 0 <- src 1, 2; dst 1 <- src 0
    return Graph(torch.tensor([0, 2, 3]), torch.tensor([1, 2, 0]), num_cols=3)


def test_block_sizes_and_destinations_first():
    block = Block(_graph(), torch.tensor([7, 3, 9]), edge_ids=torch.tensor([4, 5, 6]))
    assert (block.num_dst, block.num_src, block.num_edges) == (2, 3, 3)
    assert block.dst_nodes.tolist() == [7, 3]
    assert block.to("cpu").src_nodes.tolist() == [7, 3, 9]
    assert "num_dst=2" in repr(block)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"src_nodes": torch.tensor([1, 2])}, ValueError, "3 columns but src_nodes has 2"),
        ({"src_nodes": torch.tensor([1.0, 2.0, 3.0])}, TypeError, "int64"),
        ({"src_nodes": torch.tensor([1, 2, 3]), "edge_ids": torch.tensor([0])}, ValueError, "edge_ids"),
    ],
)
def test_block_rejects_mismatched_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        Block(_graph(), **kwargs)


def test_block_needs_destinations_among_sources():
    tall = Graph(torch.tensor([0, 1, 1, 1]), torch.tensor([0]), num_cols=2)  # 3 rows, 2 cols
    with pytest.raises(ValueError, match="num_dst <= num_src"):
        Block(tall, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="sampling.Graph"):
        Block("not a graph", torch.tensor([0]))  # type: ignore[arg-type]
