"""Graph neural networks on graphspike's shared substrate.

Sub-packages: :mod:`graphnets.conv` (the convolution layers, on a ``sampling.Graph`` or
``sampling.Block``), :mod:`graphnets.recsys` (LightGCN, UltraGCN), :mod:`graphnets.node` (DAGNN,
SpikingGCN, Planetoid), :mod:`graphnets.ckgconv` (CKGConv networks, ZINC), :mod:`graphnets.protein`
(S-GCN on protein structures).
"""

from graphnets import ckgconv, conv, node, protein, recsys

__all__ = ["ckgconv", "conv", "node", "protein", "recsys"]
