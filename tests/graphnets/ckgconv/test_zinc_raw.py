"""The official ZINC raw pickles: read without running code, graphs identical to PyG's ZINC processing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from graphnets.ckgconv import download_zinc, load_zinc
from graphnets.ckgconv.zinc_raw import read_zinc_raw, zinc_npz_from_raw
from sampling.safe_pickle import UnsafePickleError


def _molecules(count: int, seed: int) -> list[dict]:
    """The raw format: dicts of torch tensors, bond_type a symmetric [N, N] matrix (0 = no bond)."""
    g = torch.Generator().manual_seed(seed)
    mols = []
    for _ in range(count):
        n = int(torch.randint(2, 9, (1,), generator=g))
        bonds = torch.randint(0, 4, (n, n), generator=g) * (torch.rand(n, n, generator=g) < 0.4)
        bonds = torch.triu(bonds, 1)
        mols.append(
            {
                "atom_type": torch.randint(0, 28, (n,), generator=g),
                "bond_type": bonds + bonds.t(),
                "logP_SA_cycle_normalized": torch.randn(1, generator=g),
                "num_atom": n,
            }
        )
    return mols


def write_raw(root, protocol: int = 3):
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for seed, split in enumerate(("train", "val", "test")):
        (raw / f"{split}.pickle").write_bytes(pickle.dumps(_molecules(7, seed), protocol=protocol))
        (raw / f"{split}.index").write_text("5,0,3,6\n")  # PyG drops the last character (the newline)
    return raw


@pytest.mark.parametrize("subset", [True, False])
def test_graphs_match_pyg_zinc_processing(tmp_path, subset):
    from torch_geometric.datasets import ZINC

    write_raw(tmp_path / "ours")
    write_raw(tmp_path / "pyg")
    ref = ZINC(str(tmp_path / "pyg"), subset=subset, split="val")  # PyG unpickles our own test file
    ours = download_zinc(tmp_path / "ours", "val", subset=subset)  # raw present: no network
    assert len(ours) == len(ref) == (4 if subset else 7)
    for a, b in zip(ours, ref):
        assert torch.equal(a.x, b.x.view(-1)) and torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr) and torch.equal(a.y, b.y)
    name = f"zinc_{'subset' if subset else 'full'}_val.npz"
    assert (tmp_path / "ours" / name).is_file()  # converted once; later calls read the npz
    if subset:
        again = load_zinc(tmp_path / "ours", "val")
        assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(again, ours))


def test_protocol_2_and_pre_transform(tmp_path):
    write_raw(tmp_path, protocol=2)
    ref = read_zinc_raw(tmp_path / "raw", "test")
    graphs = download_zinc(tmp_path, "test", pre_transform=lambda d: setattr(d, "tag", 1) or d)
    assert [g.tag for g in graphs] == [1] * 4
    assert np.array_equal(np.concatenate([g.x.numpy() for g in graphs]), ref["x"])


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_tampered_pickle_cannot_run_code(tmp_path):
    raw = write_raw(tmp_path)
    marker = tmp_path / "pwned"
    mols = _molecules(2, 0)
    mols[1]["atom_type"] = _RunsCode(marker)
    (raw / "val.pickle").write_bytes(pickle.dumps(mols, protocol=3))
    with pytest.raises(UnsafePickleError, match=r"read_zinc_raw: refusing to load \w+\.system from val\.pickle"):
        download_zinc(tmp_path, "val")
    assert not marker.exists() and not (tmp_path / "zinc_subset_val.npz").exists()


def test_bad_molecules_and_files_are_named(tmp_path):
    raw = write_raw(tmp_path)
    mols = _molecules(7, 0)
    mols[3]["bond_type"][0, 1] = 9
    (raw / "val.pickle").write_bytes(pickle.dumps(mols))
    with pytest.raises(ValueError, match=r"val\.pickle molecule 3: bond types must lie in \[0, 4\)"):
        read_zinc_raw(raw, "val")
    mols[3] = {"atom_type": [1, 2]}
    (raw / "val.pickle").write_bytes(pickle.dumps(mols))
    with pytest.raises(ValueError, match=r"molecule 3 must be a dict of tensors"):
        read_zinc_raw(raw, "val")
    (raw / "val.pickle").write_bytes(pickle.dumps(_molecules(3, 0)))
    with pytest.raises(ValueError, match=r"val\.index lists molecule 5, outside the 3"):
        read_zinc_raw(raw, "val")
    (raw / "val.pickle").write_bytes(b"\x80\x03garbage")
    with pytest.raises(ValueError, match="corrupt or not a ZINC molecule pickle"):
        zinc_npz_from_raw(raw, "val", tmp_path / "out.npz")
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob(".*tmp"))


class _Storage:
    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data,))


@pytest.mark.parametrize("blob", [b"garbage", pickle.dumps(1, protocol=2)])
def test_corrupt_tensor_storage_is_a_value_error(tmp_path, blob):
    """Found by the fuzz test: torch's legacy loader raised AssertionError on damaged storage bytes."""
    raw = write_raw(tmp_path)
    (raw / "val.pickle").write_bytes(pickle.dumps([{"atom_type": _Storage(blob)}], protocol=2))
    with pytest.raises(ValueError, match="a tensor storage is corrupt or not weights-only"):
        read_zinc_raw(raw, "val")
