"""Real splits from ../shared/data: counts match SOURCE.md and the download table's checksums hold."""

import pytest
import torch

from graphnets.recsys import load_lightgcn_split
from graphnets.recsys.download import DOWNLOADS, download_dataset
from sampling.download import verify
from tests.helpers import data_path


@pytest.mark.data
def test_amazon_electronics_counts_and_metrics_of_a_popularity_ranking():
    from graphnets.recsys import full_ranking_metrics, popularity_embeddings

    d = load_lightgcn_split(data_path("amazon-electronics"))
    assert (d.num_users, d.num_items, d.num_train, d.num_test) == (1435, 1522, 31887, 4044)
    m = full_ranking_metrics(*popularity_embeddings(d), d)
    assert 0.0 < m["recall@20"] < 0.2 and m["num_users"] == 1435


@pytest.mark.data
@pytest.mark.parametrize("name", ["gowalla", "amazon-book", "amazon-electronics", "ml-1m", "amazon-cds"])
def test_download_table_checksums_match_the_shared_files(name):
    folder = data_path(name)
    present = [r for r in DOWNLOADS[name] if (folder / r.filename).exists()]
    assert len(present) >= 2 and all(verify(folder / r.filename, r) for r in present)


def test_unknown_name_and_verified_files_need_no_network(tmp_path):
    with pytest.raises(ValueError, match="no download for 'lastfm'"):
        download_dataset("lastfm", tmp_path)
    import hashlib

    from sampling.download import Resource

    folder = tmp_path / "gowalla"
    folder.mkdir()
    saved = DOWNLOADS["gowalla"]
    DOWNLOADS["gowalla"] = tuple(
        Resource(f, "https://invalid.invalid/" + f, sha256=hashlib.sha256(f"{f}\n".encode()).hexdigest())
        for f in ("train.txt", "test.txt")
    )
    try:
        for r in DOWNLOADS["gowalla"]:
            (folder / r.filename).write_text(f"{r.filename}\n")
        assert download_dataset("gowalla", tmp_path, opener=None) == folder  # nothing fetched
    finally:
        DOWNLOADS["gowalla"] = saved


@pytest.mark.data
def test_ml1m_shape():
    d = load_lightgcn_split(data_path("ml-1m"))
    assert (d.num_users, d.num_items, d.num_train, d.num_test) == (6022, 3043, 796244, 99455)
    assert torch.equal(d.user_degree() > 0, torch.ones(6022, dtype=torch.bool))
