"""S-GCN on protein structures (Igashov et al. 2021): PDB reading, residue graphs with
spherical-harmonic edge features in local residue frames, spherical convolutions, networks,
decoy sets and model-quality-assessment metrics. The spherical convolution itself is
:class:`graphnets.conv.SphericalConvolution`; splits by target are :func:`sampling.random_group_split`
and :func:`sampling.leave_one_group_out`."""

from graphnets.protein.decoys import DecoySet, load_decoy_set, read_error_file, synthetic_decoy_set
from graphnets.protein.frames import local_directions, local_frames
from graphnets.protein.metrics import (
    ca_rmsd,
    fisher_mean,
    lddt_ca,
    pearson,
    per_target_correlation,
    spearman,
    top1_zscore,
)
from graphnets.protein.near_native import near_native_decoy
from graphnets.protein.networks import SGCN, ResidueGCN, SGCNScoring, global_scores
from graphnets.protein.pdb import RESIDUE_TYPES, PDBFormatError, ProteinStructure, parse_pdb, read_pdb
from graphnets.protein.residue_graph import (
    NUM_NODE_FEATURES,
    ResidueGraph,
    collate_residue_graphs,
    node_features,
    residue_graph,
)
from graphnets.protein.spherical_harmonics import sh_index, spherical_harmonics
from graphnets.protein.synthetic import (
    backbone_from_ca,
    structure_from_ca,
    synthetic_decoy,
    synthetic_native,
    torsion_decoy,
)

__all__ = [
    "backbone_from_ca",
    "ca_rmsd",
    "collate_residue_graphs",
    "DecoySet",
    "fisher_mean",
    "global_scores",
    "lddt_ca",
    "load_decoy_set",
    "local_directions",
    "local_frames",
    "near_native_decoy",
    "node_features",
    "NUM_NODE_FEATURES",
    "parse_pdb",
    "PDBFormatError",
    "pearson",
    "per_target_correlation",
    "ProteinStructure",
    "read_error_file",
    "read_pdb",
    "residue_graph",
    "RESIDUE_TYPES",
    "ResidueGCN",
    "ResidueGraph",
    "SGCN",
    "SGCNScoring",
    "sh_index",
    "spearman",
    "spherical_harmonics",
    "structure_from_ca",
    "synthetic_decoy",
    "synthetic_decoy_set",
    "synthetic_native",
    "top1_zscore",
    "torsion_decoy",
]
