import gzip
import math

import pytest
import torch

from graphnets.protein import local_directions, local_frames, read_pdb, sh_index, spherical_harmonics
from tests.helpers import data_path


def _random_dirs(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return d / d.norm(dim=1, keepdim=True)


def test_hand_values_low_degrees():
    d = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    y = spherical_harmonics(d, 2)
    c0 = 1 / math.sqrt(4 * math.pi)
    c1 = math.sqrt(3 / (4 * math.pi))
    # block l=1: [-2 N_1^1 P_1^1 sin(phi), N_1^0 z, 2 N_1^1 P_1^1 cos(phi)], P_1^1 = -sin(theta), N_1^1 = c1/sqrt(2)
    expected = torch.tensor(
        [
            [c0, 0.0, c1, 0.0],
            [c0, 0.0, 0.0, -math.sqrt(2) * c1],
            [c0, math.sqrt(2) * c1, 0.0, 0.0],
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(y, expected, atol=1e-12, rtol=0)


def test_matches_scipy_closed_form_order10():
    scipy_special = pytest.importorskip("scipy.special")
    d = _random_dirs(200)
    y = spherical_harmonics(d, 10)
    theta = torch.arccos(d[:, 2].clamp(-1, 1)).numpy()
    phi = torch.atan2(d[:, 1], d[:, 0]).numpy()
    import numpy as np

    for l in range(10):
        for k in range(l + 1):
            n = math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - k) / math.factorial(l + k))
            p = scipy_special.lpmv(k, l, np.cos(theta))  # with the Condon-Shortley phase
            if k == 0:
                ref = n * p
                np.testing.assert_allclose(y[:, sh_index(l, 0)].numpy(), ref, atol=1e-10)
            else:
                np.testing.assert_allclose(y[:, sh_index(l, k)].numpy(), 2 * n * p * np.cos(k * phi), atol=1e-10)
                np.testing.assert_allclose(y[:, sh_index(l, -k)].numpy(), -2 * n * p * np.sin(k * phi), atol=1e-10)


def test_orthogonality_on_the_sphere():
    # Monte-Carlo free check: Gauss-Legendre x uniform-phi quadrature integrates degree <= 18 exactly
    import numpy as np

    xs, ws = np.polynomial.legendre.leggauss(12)
    phis = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    z = torch.tensor(np.repeat(xs, len(phis)))
    ph = torch.tensor(np.tile(phis, len(xs)))
    s = torch.sqrt(1 - z**2)
    d = torch.stack([s * torch.cos(ph), s * torch.sin(ph), z], 1)
    w = torch.tensor(np.repeat(ws, len(phis))) * (2 * np.pi / len(phis))
    y = spherical_harmonics(d, 5)
    gram = (y * w[:, None]).T @ y
    scale = torch.tensor([1.0 if k == 0 else 2.0 for l in range(5) for k in range(-l, l + 1)], dtype=torch.float64)
    torch.testing.assert_close(gram, torch.diag(scale), atol=1e-10, rtol=0)  # sqrt(2) x orthonormal off k=0


def test_bad_arguments():
    with pytest.raises(ValueError, match="order must be a positive int"):
        spherical_harmonics(_random_dirs(3), 0)
    with pytest.raises(ValueError, match=r"shape \[E, 3\]"):
        spherical_harmonics(torch.zeros(3, 2), 3)
    with pytest.raises(TypeError, match="floating-point"):
        spherical_harmonics(torch.zeros(3, 3, dtype=torch.int64), 3)
    with pytest.raises(ValueError, match="need \\|k\\| <= l"):
        sh_index(1, 2)


def _reference(path):
    with gzip.open(path, "rt") as fh:
        header = fh.readline()
        rows = [[float(v) for v in line.split()] for line in fh if line.strip()]
    return header, torch.tensor(rows, dtype=torch.float64)


@pytest.mark.data
@pytest.mark.parametrize(
    "pdb,ref,order",
    [
        ("pdbbind_sgpocket/1a1e_pocket.pdb", "1a1e_pocket.sh_order5.txt.gz", 5),
        ("pdbbind_sgpocket/1a1e_pocket.pdb", "1a1e_pocket.sh_order10.txt.gz", 10),
        ("proteingcn_decoys/1ezgA/tag0001.al.pdb", "1ezgA_tag0001.sh_order5.txt.gz", 5),
    ],
)
def test_equals_official_featurizer_reference(pdb, ref, order):
    root = data_path("proteins")
    s = read_pdb(root / pdb)
    header, expected = _reference(root / "sgcn_sh_reference" / ref)
    r = s.num_residues
    assert f"for {r} residues and {order} expansion order" in header
    dst, src = (~torch.eye(r, dtype=torch.bool)).nonzero(as_tuple=True)  # i outer, j inner, i != j
    y = spherical_harmonics(local_directions(local_frames(s.backbone), s.ca, dst, src), order)
    assert y.shape == expected.shape == (r * (r - 1), order * order)
    err = (y - expected).abs().max().item()
    assert err < 1e-4, f"max |ours - official| = {err}"  # the reference prints 4 decimals (5e-5 rounding)
