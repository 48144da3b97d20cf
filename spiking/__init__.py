"""Spiking neural networks: LIF neurons on a fused kernel, encoders, neuromorphic data, energy."""
