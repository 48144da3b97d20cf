import pytest
import torch

from graphnets.protein import ca_rmsd, lddt_ca, near_native_decoy, read_pdb, synthetic_native
from tests.graphnets.protein._geometry import random_rotation
from tests.helpers import data_path


def test_ca_rmsd_superposes_and_rejects_reflections():
    g = torch.Generator().manual_seed(0)
    native = torch.randn(25, 3, generator=g, dtype=torch.float64) * 5
    moved = native @ random_rotation(1).T + 7.0
    assert ca_rmsd(moved, native) == pytest.approx(0.0, abs=1e-6)  # sqrt of a cancelled difference
    shifted = native.clone()
    shifted[0, 0] += 5.0  # one atom off: superposition spreads it, so the RMSD is below the raw 1 Å
    assert 0.0 < ca_rmsd(shifted, native) < (25.0 / 25) ** 0.5
    mirror = native * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert ca_rmsd(mirror, native) > 1.0  # a mirror image is not a rigid motion
    with pytest.raises(ValueError, match=r"both be \[R >= 1, 3\]"):
        ca_rmsd(native, native[:3])


def test_near_native_hits_the_rmsd_with_exact_bonds():
    native = synthetic_native(60, torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    first, y1 = near_native_decoy(native, 0.9, g)
    second, _ = near_native_decoy(native, 0.9, g)
    for decoy in (first, second):
        assert ca_rmsd(decoy.ca, native.ca) == pytest.approx(0.9, rel=0.011)
        for a, b in ((0, 1), (1, 2)):  # N-CA and CA-C bond lengths stay exact
            torch.testing.assert_close(
                (decoy.backbone[:, a] - decoy.backbone[:, b]).norm(dim=1),
                (native.backbone[:, a] - native.backbone[:, b]).norm(dim=1),
            )
    assert not torch.allclose(first.ca, second.ca)  # the generator moves on
    torch.testing.assert_close(y1, lddt_ca(first.ca, native.ca))
    assert bool(((y1 > 0.5) & (y1 <= 1.0)).all())  # a long toy chain: local distances barely move
    again, _ = near_native_decoy(native, 0.9, torch.Generator().manual_seed(2))
    torch.testing.assert_close(again.backbone, first.backbone)  # deterministic in the seed


def test_near_native_bad_input():
    native = synthetic_native(12, torch.Generator().manual_seed(3))
    with pytest.raises(ValueError, match="rmsd > 0"):
        near_native_decoy(native, 0.0, torch.Generator())
    with pytest.raises(ValueError, match="only"):
        near_native_decoy(native, 500.0, torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="ProteinStructure"):
        near_native_decoy(native.ca, 0.9, torch.Generator())


def test_near_native_on_a_real_native():
    root = data_path("proteins/proteingcn_decoys")
    native = read_pdb(root / "1ezgA" / "native.pdb")
    decoy, y = near_native_decoy(native, 0.9, torch.Generator().manual_seed(0))
    assert ca_rmsd(decoy.ca, native.ca) == pytest.approx(0.9, rel=0.011)
    assert 0.8 < float(y.mean()) < 0.99  # near native: most CA distances kept within the lDDT thresholds
