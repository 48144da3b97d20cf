"""spiking.energy.summary: the flat energy summary of a spiking transformer and its one-line form."""

from __future__ import annotations

import pytest
import torch

from spiking.energy import estimate_energy, format_transformer_energy, transformer_energy_summary
from spiking.models import get_transformer_config


@pytest.mark.parametrize("attention", ["statten", "sdt"])
def test_summary_adds_up_the_report(attention):
    torch.manual_seed(0)
    cfg = get_transformer_config("nmnist", T=4, chunk_size=2, embed_dim=16, num_heads=2, attention=attention)
    x = (torch.rand(4, 1, 2, 34, 34) < 0.2).float()
    report = estimate_energy(cfg.build_model(), x, ann=True)
    s = transformer_energy_summary(report)
    assert s["snn"] == report.totals() and s["ann"] == report.ann.totals()
    assert s["snn_over_ann"] == pytest.approx(report.energy_pJ / report.ann.energy_pJ)
    qkv = [r for r in report.layers if r.name == "blocks.0.attn.attn.qkv.proj"]
    assert len(qkv) == 1 and s["attention"]["qkv_ac"] == qkv[0].ac and s["attention"]["qkv_mac"] == qkv[0].mac
    assert s["attention"]["products_mac"] == 0  # spikes in, so the products are accumulates
    prod = [r for r in report.layers if r.name == "blocks.0.attn.attn" and r.op == "matmul"]
    assert s["attention"]["products_ac"] == sum(r.ac for r in prod)
    assert s["attention"]["energy_mJ"] == pytest.approx(sum(r.energy_pJ for r in qkv + prod) * 1e-9)
    assert 0 <= s["attention"]["energy_mJ"] <= s["snn"]["energy_mJ"]
    assert "blocks.0.attn.attn.attn_lif" in s["rates"] and all(0.0 <= r <= 1.0 for r in s["rates"].values())
    line = format_transformer_energy(s)
    assert line.startswith(f"energy/sample: SNN {s['snn']['energy_mJ']:.4g} mJ") and "SNN/ANN" in line


def test_summary_needs_a_report_with_its_ann_twin():
    torch.manual_seed(0)
    cfg = get_transformer_config("nmnist", T=2, chunk_size=2, embed_dim=16, num_heads=2)
    report = estimate_energy(cfg.build_model(), torch.zeros(2, 1, 2, 34, 34))
    with pytest.raises(ValueError, match=r"transformer_energy_summary: report must carry an ANN twin .*\(got none\)"):
        transformer_energy_summary(report)
    with pytest.raises(TypeError, match=r"report must be an EnergyReport \(got dict\)"):
        transformer_energy_summary({})
