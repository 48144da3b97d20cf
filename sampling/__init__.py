"""graphspike's shared data layer: graph structure and samplers used by graph and spiking models."""
from sampling.graph import Graph, InvalidGraphError

__all__ = ["Graph", "InvalidGraphError"]
