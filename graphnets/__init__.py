"""Graph neural networks on graphspike's shared substrate.

Sub-packages: :mod:`graphnets.recsys` (LightGCN, UltraGCN), :mod:`graphnets.node` (DAGNN,
SpikingGCN, Planetoid), :mod:`graphnets.ckgconv` (CKGConv, ZINC), :mod:`graphnets.protein`
(S-GCN on protein structures).
"""
from graphnets import ckgconv, node, protein, recsys

__all__ = ["ckgconv", "node", "protein", "recsys"]
