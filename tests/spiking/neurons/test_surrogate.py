"""spiking.neurons.surrogate: names and spikingjelly objects resolve to one spec; the fused ones are marked."""

from __future__ import annotations

import pytest
from spikingjelly.activation_based import surrogate

from spiking.neurons import resolve_surrogate, surrogate_names


def test_names_and_objects():
    assert "sigmoid" in surrogate_names() and "atan" in surrogate_names()
    spec = resolve_surrogate("atan")
    assert (spec.name, spec.alpha, spec.fused) == ("atan", 2.0, True)  # spikingjelly's default alpha
    spec = resolve_surrogate(surrogate.Sigmoid(alpha=1.5))
    assert (spec.name, spec.alpha, spec.fused) == ("sigmoid", 1.5, True)
    assert not resolve_surrogate("piecewise_quadratic").fused
    assert resolve_surrogate("erf", alpha=3.0).alpha == 3.0


def test_errors():
    with pytest.raises(ValueError, match="unknown surrogate name"):
        resolve_surrogate("relu")
    with pytest.raises(ValueError, match="spiking mode"):
        resolve_surrogate(surrogate.Sigmoid(spiking=False))
    with pytest.raises(ValueError, match="disagrees"):
        resolve_surrogate(surrogate.ATan(alpha=2.0), alpha=3.0)
    with pytest.raises(TypeError, match="surrogate name"):
        resolve_surrogate(3)
