"""Every library error that gives advice ("pass x=...", "call ...", "use ...") is followed here, and
the advice works.

The messages were found by scanning every ``raise``/``warnings.warn`` of ``cuda_ext``, ``sampling``,
``graphnets`` and ``spiking`` for advice words. Advice followed elsewhere: ``cold_users='drop'`` and
``drop_duplicates=True`` (tests/graphnets/recsys/test_recbole.py, test_data.py and
tests/examples/test_recommend.py), ``missing_backbone='drop'`` (tests/graphnets/protein/test_pdb.py),
``weight=None`` of ``from_dgl`` (tests/sampling/test_convert.py), the examples' ``--resume`` /
``--overwrite`` / ``--device`` advice (tests/examples/test_run.py). Not followable in a test:
installing packages (checked instead: the named extra exists and holds the package) and building
the CUDA extension without nvcc.
"""

from __future__ import annotations

import re

import pytest
import torch

from tests.helpers import REPO


def test_backend_cuda_unavailable_pass_backend_torch(monkeypatch):
    from cuda_ext import _backend

    monkeypatch.setattr(_backend, "extension_status", lambda: (False, "not built (test)"))
    cuda = torch.device("cuda")  # a device object is enough: the choice is made before any tensor moves
    with pytest.raises(RuntimeError, match="pass backend='torch'"):
        _backend.resolve_backend("spmm", "cuda", cuda)
    assert _backend.resolve_backend("spmm", "torch", cuda) == "torch"


def test_lif_op_without_store_h_call_cuda_ext_lif_multistep():
    from cuda_ext import LIFParams, lif_multistep

    x = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    v0, tau = torch.zeros(3, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64)
    spikes = torch.ops.graphspike.lif_multistep(x, v0, tau, 0.5, 0.0, True, False, "sigmoid", 4.0, False, "torch")[0]
    with pytest.raises(RuntimeError, match="call cuda_ext.lif_multistep"):
        spikes.sum().backward()
    spikes, _ = lif_multistep(x, v0, LIFParams(tau=2.0, v_threshold=0.5))
    spikes.sum().backward()  # the advice: the public function stores what backward needs
    assert x.grad is not None and x.grad.shape == x.shape


def test_pdb_insertion_codes_use_keep_or_skip():
    from graphnets.protein.pdb import parse_pdb
    from tests.graphnets.protein._pdbtext import atom

    lines = [
        atom(i + 1, a, "GLY", "A", 60, float(i), 0.0, 0.0, icode=ic)
        for ic in (" ", "A")
        for i, a in enumerate(("N", "CA", "C"))
    ]
    text = "\n".join(lines) + "\n"
    with pytest.raises(ValueError, match="use 'keep' or 'skip'"):
        parse_pdb(text, insertion_codes="error")
    assert parse_pdb(text, insertion_codes="keep").num_residues == 2
    assert parse_pdb(text, insertion_codes="skip").num_residues == 1


def test_attention_static_scale_pass_hw():
    from spiking.attention.functional import resolve_scale

    with pytest.raises(ValueError, match=r"pass hw=\(H, W\)"):
        resolve_scale("f", "static", 12, 1, None)
    assert resolve_scale("f", "static", 12, 1, (3, 4)) == pytest.approx(1 / 3)


def test_neuron_state_mismatch_call_reset_net():
    from spikingjelly.activation_based import functional

    from spiking.neurons import LIF

    net = torch.nn.Sequential(LIF(step_mode="m"))
    net(torch.rand(2, 3, 5))
    with pytest.raises(ValueError, match="reset_net"):
        net(torch.rand(2, 4, 5))
    functional.reset_net(net)
    assert net(torch.rand(2, 4, 5)).shape == (2, 4, 5)


def test_surrogate_alpha_pass_one_or_the_other():
    from spikingjelly.activation_based import surrogate

    from spiking.neurons.surrogate import resolve_surrogate

    with pytest.raises(ValueError, match="pass one or the other"):
        resolve_surrogate(surrogate.Sigmoid(alpha=4.0), alpha=2.0)
    assert resolve_surrogate(surrogate.Sigmoid(alpha=4.0)).alpha == 4.0
    assert resolve_surrogate("sigmoid", alpha=2.0).alpha == 2.0


def test_unet_spiking_activation_use_spiking_unet():
    from spiking.diffusion.unet import SPIKING_ACTIVATIONS, SpikingUNet, UNet

    act = sorted(SPIKING_ACTIVATIONS)[0]
    with pytest.raises(ValueError, match=f"use SpikingUNet\\(neuron='{act}'\\)"):
        UNet(image_channels=1, ch=8, ch_mult=(1,), num_res_blocks=1, activation=act)
    SpikingUNet(image_channels=1, ch=8, ch_mult=(1,), num_res_blocks=1, neuron=act)


@pytest.mark.parametrize(
    "dataset, key",
    [
        ("NMNIST", "nmnist"),
        ("NCaltech101", "ncaltech101"),
        ("DVS128Gesture", "dvs128gesture"),
        ("CIFAR10DVS", "cifar10dvs"),
        ("SHD", "shd"),
        ("SSC", "ssc"),
    ],
)
def test_missing_dataset_see_spiking_datasets_download(tmp_path, dataset, key):
    import spiking.datasets as ds

    with pytest.raises(FileNotFoundError, match="see spiking.datasets.download"):
        getattr(ds, dataset)(tmp_path / "nowhere")
    assert key in ds.RESOURCES and callable(ds.prepare)  # the module the message points to covers the dataset


@pytest.mark.parametrize(
    "extra, package", [("diffusion", "mlxtend"), ("diffusion", "scikit-learn"), ("fid", "torch-fidelity")]
)
def test_pip_install_extras_named_in_errors_exist(extra, package):
    line = re.search(rf"^{extra} = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M)  # tomllib needs 3.11
    assert line is not None and f'"{package}' in line.group(1)
