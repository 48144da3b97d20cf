"""The Planetoid download table matches the shared raw files; verified files need no network."""

from __future__ import annotations

import pytest

from graphnets.node.download import PLANETOID_DOWNLOADS, download_planetoid
from sampling.download import verify
from tests.helpers import data_path


@pytest.mark.data
def test_checksums_match_the_shared_files():
    root = data_path("planetoid")
    assert all(verify(root / r.filename, r) for r in PLANETOID_DOWNLOADS["cora"])
    present = [r for r in PLANETOID_DOWNLOADS["pubmed"] if (root / r.filename).exists()]
    assert len(present) == 7 and all(verify(root / r.filename, r) for r in present)


@pytest.mark.data
def test_present_files_are_not_fetched_again(tmp_path):
    import shutil

    for r in PLANETOID_DOWNLOADS["cora"]:
        shutil.copy(data_path("planetoid") / r.filename, tmp_path / r.filename)
    assert download_planetoid("Cora", tmp_path, opener=None) == tmp_path


def test_unknown_name():
    with pytest.raises(ValueError, match="download_planetoid: name must be one of"):
        download_planetoid("reddit", "x")
