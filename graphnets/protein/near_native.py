r"""Near-native decoys at a chosen CA RMSD (the offline stand-in for the official NOLB decoys).

The official S-GCN training (``scripts/train_sgcn_5.sh``, ``--include_near_native``) adds to
every training target 50 near-native decoys made by NOLB (Hoffmann & Grudinin, JCTC 2017,
non-linear normal-mode analysis) at about 0.9 Å RMSD from the native. NOLB is an external
binary, so here a near-native decoy perturbs every backbone torsion of the native by
:math:`a \cdot \mathcal N(0, 1)` degrees (:func:`~graphnets.protein.synthetic.torsion_decoy`
without kinks), with one amplitude :math:`a` per decoy found by bisection so that the CA RMSD to
the native after optimal superposition (:func:`~graphnets.protein.metrics.ca_rmsd`) is
``rmsd``. The random directions are drawn once per decoy; only their common scale is searched.

Why torsions rather than Cartesian normal modes: moving backbone atoms linearly along
elastic-network (ANM) modes to 0.9 Å stretched bonds of the floppy NMR termini of these natives
by more than 1 Å, even with rigid residue blocks; torsion changes keep every bond length and
angle exact. Like NOLB's, the deformations are small, global and spread over the chain.
Labels are the per-residue lDDT-CA against the native.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from graphnets.protein.metrics import ca_rmsd
from graphnets.protein.pdb import ProteinStructure
from graphnets.protein.synthetic import torsion_decoy

__all__ = ["near_native_decoy"]


def near_native_decoy(
    native: ProteinStructure,
    rmsd: float,
    generator: torch.Generator,
    tolerance: float = 0.01,
    max_amplitude: float = 30.0,
    name: Optional[str] = None,
) -> tuple[ProteinStructure, Tensor]:
    """A decoy of ``native`` at CA RMSD ``rmsd`` Å (within ``tolerance`` relative), with lDDT-CA labels ``[R]``.

    Raises ``ValueError`` when even ``max_amplitude`` degrees of torsion noise stay below ``rmsd``
    (a very short chain cannot move that far).
    """
    if not isinstance(native, ProteinStructure):
        raise TypeError(f"near_native_decoy: native must be a ProteinStructure (got {type(native).__name__})")
    if not rmsd > 0 or not 0 < tolerance < 1:
        raise ValueError(f"near_native_decoy: need rmsd > 0 Å and 0 < tolerance < 1 (got {rmsd}, {tolerance})")
    state = generator.get_state()

    def draw(amplitude: float) -> tuple[ProteinStructure, Tensor, float, torch.Generator]:
        g = torch.Generator().set_state(state)  # the same random directions for every amplitude
        decoy, labels = torsion_decoy(native, amplitude, g, kink_fraction=0.0, name=name)
        return decoy, labels, ca_rmsd(decoy.ca, native.ca), g

    lo, hi = 0.0, max_amplitude
    decoy, labels, got, g = draw(hi)
    if got < rmsd:
        raise ValueError(
            f"near_native_decoy: {max_amplitude} degrees of torsion noise move {native.source} only {got:.2f} Å "
            f"(asked for {rmsd} Å)"
        )
    amp = min(hi, 2.0)
    for _ in range(60):
        decoy, labels, got, g = draw(amp)
        if abs(got - rmsd) <= tolerance * rmsd:
            break
        lo, hi = (amp, hi) if got < rmsd else (lo, amp)
        # RMSD is nearly proportional to the amplitude: rescale, and bisect if that leaves the bracket
        amp = amp * rmsd / max(got, 1e-12)
        if not lo < amp < hi:
            amp = 0.5 * (lo + hi)
    else:
        raise RuntimeError(f"near_native_decoy: bisection did not reach {rmsd} Å on {native.source} (last {got:.3f} Å)")
    generator.set_state(g.get_state())  # the next decoy draws new directions
    return decoy, labels
