r"""Tiny synthetic molecule-like graphs for quick starts and CI (no download).

Each graph: a ring of 5-6 atoms with a random tree of extra atoms attached; atom types in
``[0, num_atom_types)``, bond types in ``{1, 2, 3}``; both edge directions stored. The target
is a structural function that a message-passing model must read from the graph:

.. math::  y = 0.3\,\#\{\text{type-0 atoms}\} - 0.5\,\#\{\text{leaves}\}
           + 0.2\,\#\{\text{double/triple bonds}\} + 0.1 \cdot \text{ring size}.
"""

from __future__ import annotations

import torch

__all__ = ["synthetic_molecules"]


def synthetic_molecules(
    num_graphs: int, generator: torch.Generator, min_atoms: int = 8, max_atoms: int = 16, num_atom_types: int = 6
) -> list:
    """A list of PyG ``Data`` (``x`` int64 [N], ``edge_index`` [2, E], ``edge_attr`` int64 [E], ``y`` [1])."""
    from torch_geometric.data import Data

    if num_graphs < 1 or not 6 <= min_atoms <= max_atoms or num_atom_types < 1:
        raise ValueError(
            f"synthetic_molecules: need num_graphs >= 1, 6 <= min_atoms <= max_atoms, num_atom_types >= 1 "
            f"(got {num_graphs}, {min_atoms}, {max_atoms}, {num_atom_types})"
        )
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"synthetic_molecules: generator must be a torch.Generator (got {type(generator).__name__})")
    out = []
    for _ in range(num_graphs):
        n = int(torch.randint(min_atoms, max_atoms + 1, (1,), generator=generator))
        ring = int(torch.randint(5, 7, (1,), generator=generator))
        src, dst = [], []
        for i in range(ring):
            src.append(i)
            dst.append((i + 1) % ring)
        for i in range(ring, n):
            src.append(int(torch.randint(0, i, (1,), generator=generator)))
            dst.append(i)
        bonds = torch.multinomial(torch.tensor([0.75, 0.2, 0.05]), len(src), replacement=True, generator=generator) + 1
        x = torch.randint(0, num_atom_types, (n,), generator=generator)
        s, d = torch.tensor(src), torch.tensor(dst)
        edge_index = torch.stack([torch.cat([s, d]), torch.cat([d, s])])  # [2, 2B]
        edge_attr = torch.cat([bonds, bonds])
        deg = torch.bincount(edge_index[1], minlength=n)
        y = 0.3 * (x == 0).sum() - 0.5 * (deg == 1).sum() + 0.2 * (bonds > 1).sum() + 0.1 * ring
        out.append(Data(x=x, edge_index=edge_index, edge_attr=edge_attr, y=y.reshape(1).float(), num_nodes=n))
    return out
