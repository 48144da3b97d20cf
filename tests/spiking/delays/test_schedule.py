"""Sigma schedule against the official ``decrease_sig`` loop."""

from __future__ import annotations

import pytest

from spiking.delays import SigmaSchedule


@pytest.mark.parametrize("K,epochs", [(25, 150), (31, 60), (5, 8)])
def test_matches_official_products(K, epochs):
    final_epoch = epochs // 4
    sched = SigmaSchedule(K, final_epoch)
    sig = float(K // 2)  # dcls SIG, sigInit = max_delay // 2
    alpha = (0.23 / sig) ** (1 / final_epoch)
    for epoch in range(epochs):
        assert sched(epoch) == pytest.approx(sig + 0.27, rel=1e-9, abs=1e-9)  # epoch trains with this width
        if epoch < final_epoch and sig > 0.23:  # official: after the epoch
            sig *= alpha
    assert sched(epochs) == pytest.approx(0.5)


def test_edges_and_errors():
    assert SigmaSchedule(25, 0)(0) == 0.5  # no decay: final width at once
    assert SigmaSchedule(1, 10)(0) == 0.5  # K = 1: nothing to decay
    assert SigmaSchedule(9, 4, sigma_init=2.0, sigma_final=1.5, offset=1.0)(4) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        SigmaSchedule(25, 10)(-1)
    with pytest.raises(ValueError, match="kernel_size"):
        SigmaSchedule(0, 10)
    with pytest.raises(ValueError, match="offset < sigma_final"):
        SigmaSchedule(25, 10, sigma_final=0.2)
