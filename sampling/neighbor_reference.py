r"""The executable spec of :class:`sampling.NeighborSampler`: one Python loop iteration per node.

For every hop, every destination ``v`` (in order) picks positions in its CSR row -- all of them
when the fan-out is ``-1`` or covers the degree, ``random.sample`` (without replacement) or
``random.randrange`` draws (with replacement) otherwise, sorted -- and every picked neighbour
not seen yet gets the next local id. This is what the vectorised sampler computes, with its own
random numbers; tests hold it to this loop (exactly, for full neighbourhoods or when ``choose``
replays its picks) and to the distribution (each neighbour with probability ``k / d``).
The benchmark times it as the naive baseline.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Callable, Optional

import torch

from sampling.block import Block
from sampling.graph import Graph

__all__ = ["neighbor_sample_reference"]

Choose = Callable[[int, int, int, int], Sequence[int]]


def neighbor_sample_reference(
    graph: Graph,
    seeds: Sequence[int],
    fanouts: Sequence[int],
    *,
    replace: bool = False,
    rng: Optional[random.Random] = None,
    choose: Optional[Choose] = None,
) -> list[Block]:
    """Blocks of ``seeds`` built node by node (input layer first, like ``sample_blocks``).

    Args:
        graph: a square CPU :class:`Graph`.
        seeds: unique node ids.
        fanouts: per-hop fan-outs, first hop first (``-1`` = all).
        replace: draw with replacement.
        rng: ``random.Random`` for the draws (default: a new one seeded with 0).
        choose: optional ``choose(hop, node, degree, fanout) -> positions`` overriding the draws
            (to replay another sampler's picks).
    """
    rng = rng if rng is not None else random.Random(0)
    indptr, indices = graph.indptr.tolist(), graph.indices.tolist()
    nodes = [int(v) for v in seeds]
    local = {v: i for i, v in enumerate(nodes)}
    hops = []
    for hop, k in enumerate(fanouts):
        rowptr, cols, eids = [0], [], []
        for i in range(len(nodes)):
            v = nodes[i]
            start, d = indptr[v], indptr[v + 1] - indptr[v]
            if choose is not None:
                picks = choose(hop, v, d, k)
            elif k == -1 or (not replace and d <= k):
                picks = range(d)
            elif replace:
                picks = sorted(rng.randrange(d) for _ in range(k)) if d else []
            else:
                picks = sorted(rng.sample(range(d), k))
            for p in picks:
                u = indices[start + p]
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                cols.append(local[u])
                eids.append(start + p)
            rowptr.append(len(cols))
        csr = Graph(torch.tensor(rowptr), torch.tensor(cols, dtype=torch.int64), num_cols=len(nodes))
        hops.append(Block(csr, torch.tensor(nodes, dtype=torch.int64), torch.tensor(eids, dtype=torch.int64)))
    return hops[::-1]
