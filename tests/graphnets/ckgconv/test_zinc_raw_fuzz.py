"""Fuzz test of the ZINC raw reader: random bytes or a randomly edited molecule pickle give the
npz arrays (consistent, in range) or a ``ValueError``; a valid pickle is read exactly."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphnets.ckgconv import ZINC_NUM_ATOM_TYPES, ZINC_NUM_BOND_TYPES
from graphnets.ckgconv.zinc_raw import read_zinc_raw
from tests.fuzz import fuzz, fuzz_settings, mutated, read_or_value_error, scratch_dir
from tests.graphnets.ckgconv.test_zinc_raw import _molecules

pytestmark = fuzz


def _check(data: bytes, subset: bool):
    with scratch_dir() as d:
        (d / "val.pickle").write_bytes(data)
        (d / "val.index").write_text("1,0\n")
        out = read_or_value_error(read_zinc_raw, d, "val", subset=subset)
    if out is None:
        return None
    g, n, e = out["y"].shape[0], out["x"].shape[0], out["edge_attr"].shape[0]
    assert out["node_ptr"][-1] == n and out["edge_ptr"][-1] == e and out["edge_index"].shape == (2, e)
    assert np.isfinite(out["y"]).all() and (subset is False or g == 2)
    assert n == 0 or (0 <= out["x"].min() and out["x"].max() < ZINC_NUM_ATOM_TYPES)
    assert e == 0 or (0 < out["edge_attr"].min() and out["edge_attr"].max() < ZINC_NUM_BOND_TYPES)
    return out


@fuzz_settings(0.5)
@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_bytes(data, subset):
    _check(data, subset)


@pytest.fixture(scope="module")
def valid_pickles():
    return [pickle.dumps(_molecules(2, seed), protocol=p) for seed, p in ((0, 2), (1, 3), (2, 4))]


@fuzz_settings()
@given(data=st.data())
def test_edited_pickles(valid_pickles, data):
    blob = data.draw(mutated(st.sampled_from(valid_pickles)))
    _check(blob, data.draw(st.booleans()))
