import pytest
import torch

from graphnets.protein import (
    load_decoy_set,
    read_error_file,
    read_pdb,
    synthetic_decoy,
    synthetic_decoy_set,
    synthetic_native,
    torsion_decoy,
)
from tests.helpers import data_path


def test_synthetic_set_deterministic_and_labelled():
    a = synthetic_decoy_set(2, 3, 20, generator=torch.Generator().manual_seed(0), order=2)
    b = synthetic_decoy_set(2, 3, 20, generator=torch.Generator().manual_seed(0), order=2)
    assert len(a) == 6 and a.targets == ["syn000", "syn001"]
    for ga, gb in zip(a.graphs, b.graphs):
        torch.testing.assert_close(ga.y, gb.y)
        torch.testing.assert_close(ga.sh, gb.sh)
        assert bool(((ga.y >= 0) & (ga.y <= 1)).all())
        torch.testing.assert_close(ga.y_global, ga.y.mean().reshape(1))
    with pytest.raises(ValueError, match="decoys_per_target >= 2"):
        synthetic_decoy_set(2, 1, generator=torch.Generator())


def test_decoy_quality_falls_with_amplitude():
    native = synthetic_native(40, torch.Generator().manual_seed(1))
    for make in (synthetic_decoy, torsion_decoy):
        scores = [float(make(native, a, torch.Generator().manual_seed(2))[1].mean()) for a in (0.0, 3.0, 10.0)]
        assert scores[0] == pytest.approx(1.0) and scores[0] > scores[1] > scores[2]


def test_torsion_decoy_keeps_local_geometry():
    native = synthetic_native(30, torch.Generator().manual_seed(3))
    decoy, y = torsion_decoy(native, 10.0, torch.Generator().manual_seed(4))
    bonds = lambda s: (s.ca[1:] - s.ca[:-1]).norm(dim=1)  # noqa: E731
    torch.testing.assert_close(bonds(decoy), bonds(native))
    torch.testing.assert_close(
        (decoy.backbone[:, 0] - decoy.backbone[:, 1]).norm(dim=1),
        (native.backbone[:, 0] - native.backbone[:, 1]).norm(dim=1),
    )
    assert float(y.mean()) < 0.99


def test_error_file_and_missing_root(tmp_path):
    p = tmp_path / "m.pdb.error"
    p.write_text("#RES  Dist(A) lDDT_CA(%)\n1  1.0  0.5\n2  2.0  0.25\n")
    torch.testing.assert_close(read_error_file(p), torch.tensor([0.5, 0.25]))
    p.write_text("#RES\n1  1.0  abc\n")
    with pytest.raises(ValueError, match="non-numeric lDDT"):
        read_error_file(p)
    with pytest.raises(FileNotFoundError, match="no directory"):
        load_decoy_set(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no labelled models"):
        load_decoy_set(tmp_path)


@pytest.mark.data
def test_real_decoy_set():
    root = data_path("proteins") / "proteingcn_decoys"
    ds = load_decoy_set(root, targets=["1ezgA"], order=2)
    assert len(ds) == 5 and ds.targets == ["1ezgA"]
    g = ds.graphs[0]
    assert g.names == ("1ezgA/tag0001.al",) and g.num_nodes == 82 and g.y.shape == (82,)
    assert ds.gdt_ts["1ezgA/tag0001.al"] == pytest.approx(0.5976)
    with_native = load_decoy_set(root, targets=["1ezgA"], order=2, include_native=True)
    native = [x for x in with_native.graphs if x.names[0].endswith("native")]
    assert len(native) == 1 and float(native[0].y.min()) == 1.0
    assert read_pdb(root / "1ezgA" / "native.pdb").num_residues == native[0].num_nodes
