"""Drivers that time the official implementations by calling their own functions unchanged.

Each driver runs in its own process (so peak memory is that implementation's alone) and prints
one JSON line. The official code is never part of this repository: point the drivers at a
checkout you fetched yourself (see ``benchmarks/recsys.py --help``).
"""
