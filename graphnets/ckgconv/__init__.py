"""CKGConv (Ma et al., ICML 2024): continuous graph-convolution kernels over RRWP pseudo-coordinates.

The layer itself and its kernel MLP are :class:`graphnets.conv.CKGConv` and :class:`graphnets.conv.KernelMLP`;
this package holds the RRWP transform, the stems, the post-norm block, the networks and ZINC."""

from graphnets.ckgconv.block import PostNormBlock
from graphnets.ckgconv.network import CKGCN, CKGCNConfig, GCNRegressor, RegressionHead, batch_graph
from graphnets.ckgconv.rrwp import SUPPORTS, rrwp, rrwp_support
from graphnets.ckgconv.schedule import cosine_with_warmup
from graphnets.ckgconv.stem import AffineTransform, NodeStem, PairStem, edge_to_pair, support_size
from graphnets.ckgconv.synthetic import synthetic_molecules
from graphnets.ckgconv.transform import AddRRWP
from graphnets.ckgconv.zinc import (
    ZINC_NUM_ATOM_TYPES,
    ZINC_NUM_BOND_TYPES,
    ZINC_SPLITS,
    download_zinc,
    graphs_from_arrays,
    load_zinc,
    load_zinc_npz,
    load_zinc_pt,
)

__all__ = [
    "AddRRWP",
    "AffineTransform",
    "CKGCN",
    "CKGCNConfig",
    "GCNRegressor",
    "NodeStem",
    "PairStem",
    "PostNormBlock",
    "RegressionHead",
    "SUPPORTS",
    "ZINC_NUM_ATOM_TYPES",
    "ZINC_NUM_BOND_TYPES",
    "ZINC_SPLITS",
    "batch_graph",
    "cosine_with_warmup",
    "download_zinc",
    "edge_to_pair",
    "graphs_from_arrays",
    "load_zinc",
    "load_zinc_npz",
    "load_zinc_pt",
    "rrwp",
    "rrwp_support",
    "support_size",
    "synthetic_molecules",
]
