r"""A synthetic citation-like graph: stochastic block model with class-dependent bag-of-words features.

Needs no download; used by the example's default run, by tests, and for scale tests.

Structure: ``C`` blocks (classes); an unordered pair ``{i, j}`` is an edge with probability
``p_in`` inside a block and ``p_out`` across blocks. Sampling is :math:`O(E)`: per block pair the
edge count is drawn from the exact binomial, endpoints uniformly, then duplicates and self loops
are dropped (so the realised density is a hair below ``p`` when ``p`` is large). Edges are stored
in both directions.

Features: ``F`` binary "words"; class ``c`` owns a topic of ``F / C`` words. A node switches on each
word of its own topic with probability ``p_topic`` and any other word with ``p_noise``. With the
defaults a feature-only classifier is clearly worse than one that also uses the graph.
"""

from __future__ import annotations

import torch

from graphnets.node.dataset import NodeDataset
from sampling import Graph, random_planetoid_split

__all__ = ["make_sbm"]


def make_sbm(
    generator: torch.Generator,
    *,
    num_classes: int = 4,
    nodes_per_class: int = 100,
    p_in: float = 0.04,
    p_out: float = 0.004,
    num_features: int = 64,
    p_topic: float = 0.12,
    p_noise: float = 0.04,
    train_per_class: int = 20,
    num_val: int = 100,
    num_test: int = 160,
) -> NodeDataset:
    """Sample an SBM node-classification dataset (graph, features, labels, random split).

    Args:
        generator: CPU ``torch.Generator``; the result is a deterministic function of its state.
        num_classes, nodes_per_class: ``C`` blocks of equal size, ``N = C * nodes_per_class``.
        p_in, p_out: edge probabilities within / across blocks.
        num_features: ``F`` (at least ``C``).
        p_topic, p_noise: word probabilities for own-topic / other words.
        train_per_class, num_val, num_test: split sizes.
    """
    fn = "make_sbm"
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    if num_classes < 2 or nodes_per_class < 2:
        raise ValueError(f"{fn}: need num_classes >= 2 and nodes_per_class >= 2 (got {num_classes}, {nodes_per_class})")
    if num_features < num_classes:
        raise ValueError(f"{fn}: num_features must be >= num_classes={num_classes} (got {num_features})")
    for name, p in (("p_in", p_in), ("p_out", p_out), ("p_topic", p_topic), ("p_noise", p_noise)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{fn}: {name} must be a probability in [0, 1] (got {p})")
    n, c = num_classes * nodes_per_class, num_classes
    y = torch.arange(n) // nodes_per_class  # [N]

    src, dst = [], []
    for a in range(c):
        for b in range(a, c):
            pairs = nodes_per_class * (nodes_per_class - 1) // 2 if a == b else nodes_per_class**2
            p = p_in if a == b else p_out
            m = int(torch.binomial(torch.tensor(float(pairs)), torch.tensor(p), generator=generator))
            i = a * nodes_per_class + torch.randint(nodes_per_class, (m,), generator=generator)
            j = b * nodes_per_class + torch.randint(nodes_per_class, (m,), generator=generator)
            src.append(i)
            dst.append(j)
    i, j = torch.cat(src), torch.cat(dst)
    keep = i != j
    i, j = i[keep], j[keep]
    lo, hi = torch.minimum(i, j), torch.maximum(i, j)
    key = torch.unique(lo * n + hi)  # undirected pairs, deduplicated
    lo, hi = key // n, key % n
    edge_index = torch.stack([torch.cat([lo, hi]), torch.cat([hi, lo])])  # [2, 2E], both directions
    graph = Graph.from_edge_index(edge_index, num_nodes=n)

    topic = torch.arange(num_features) % c  # word f belongs to topic f mod C
    prob = torch.where(topic.unsqueeze(0) == y.unsqueeze(1), p_topic, p_noise)  # [N, F]
    x = (torch.rand(n, num_features, generator=generator) < prob).to(torch.float32)
    split = random_planetoid_split(y, c, generator, train_per_class=train_per_class, num_val=num_val, num_test=num_test)
    return NodeDataset(name="sbm", x=x, y=y, graph=graph, num_classes=c, split=split)
