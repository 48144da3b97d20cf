"""Fuzz test of the Planetoid reader's restricted unpickling: a valid file set with one file replaced
by random bytes or a randomly edited pickle gives a :class:`NodeDataset` or a ``ValueError``."""

from __future__ import annotations

import shutil

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphnets.node import NodeDataset, load_planetoid
from tests.fuzz import fuzz, fuzz_settings, mutated, read_or_value_error, scratch_dir
from tests.graphnets.node.test_planetoid import write_tiny_planetoid

pytestmark = fuzz
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("planetoid")
    write_tiny_planetoid(root)
    return root


def _check(template, part: str, data: bytes):
    with scratch_dir() as d:
        shutil.copytree(template, d, dirs_exist_ok=True)
        (d / f"ind.cora.{part}").write_bytes(data)
        ds = read_or_value_error(load_planetoid, d, "cora")
    if ds is not None:
        assert isinstance(ds, NodeDataset) and ds.x.shape[0] == ds.num_nodes == ds.y.shape[0]
        assert bool(torch.isfinite(ds.x).all()) and int(ds.y.max()) < ds.num_classes


@fuzz_settings(0.5)
@given(st.sampled_from(PARTS), st.binary(max_size=200))
def test_arbitrary_bytes(template, part, data):
    _check(template, part, data)


@st.composite
def edited_pickle(draw, template_bytes):
    part = draw(st.sampled_from(PARTS))
    return part, draw(mutated(st.just(template_bytes[part])))


@fuzz_settings()
@given(data=st.data())
def test_edited_pickles(template, data):
    original = {p: (template / f"ind.cora.{p}").read_bytes() for p in PARTS}
    part, blob = data.draw(edited_pickle(original))
    _check(template, part, blob)
