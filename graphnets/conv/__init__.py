"""Graph convolution layers, one per file in PyG's style, each on a ``sampling.Graph`` or ``sampling.Block``.

Every layer aggregates through :func:`cuda_ext.spmm` (deterministic, no atomics); per-edge
messages are reduced by a segment sum over the destination CSR. Node features are ``x`` or
``(x_src, x_dst)``; destinations are the first sources of a block.
"""

from graphnets.conv.ckg_conv import CKGConv
from graphnets.conv.ckg_kernel import KernelMLP
from graphnets.conv.dagnn_conv import DAGNNConv
from graphnets.conv.gcn_conv import GCNConv, gcn_norm
from graphnets.conv.lg_conv import LGConv
from graphnets.conv.propagate import propagate
from graphnets.conv.sage_conv import SAGEConv
from graphnets.conv.spherical_conv import SphericalConvolution

__all__ = [
    "CKGConv",
    "DAGNNConv",
    "GCNConv",
    "KernelMLP",
    "LGConv",
    "SAGEConv",
    "SphericalConvolution",
    "gcn_norm",
    "propagate",
]
