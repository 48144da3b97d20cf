"""Real splits from ../shared/data: counts match SOURCE.md and the download table's checksums hold."""
import pytest
import torch

from graphnets.recsys import load_lightgcn_split
from graphnets.recsys.download import DOWNLOADS, download_dataset, verify_file
from tests.helpers import data_path


@pytest.mark.data
def test_amazon_electronics_counts_and_metrics_of_a_popularity_ranking():
    from graphnets.recsys import full_ranking_metrics, popularity_embeddings
    d = load_lightgcn_split(data_path("amazon-electronics"))
    assert (d.num_users, d.num_items, d.num_train, d.num_test) == (1435, 1522, 31887, 4044)
    m = full_ranking_metrics(*popularity_embeddings(d), d)
    assert 0.0 < m["recall@20"] < 0.2 and m["num_users"] == 1435


@pytest.mark.data
@pytest.mark.parametrize("name", ["gowalla", "amazon-book"])
def test_download_table_checksums_match_the_shared_files(name):
    folder = data_path(name)
    checked = 0
    for file, (sha256, md5) in DOWNLOADS[name].items():
        if (folder / file).exists():
            assert verify_file(folder / file, sha256, md5)
            checked += 1
    assert checked >= 3


def test_checksum_mismatch_is_an_error(tmp_path):
    f = tmp_path / "train.txt"
    f.write_text("0 1\n")
    with pytest.raises(ValueError, match=r"has sha256 [0-9a-f]+ \(expected 00\)"):
        verify_file(f, "00", None)
    assert verify_file(f, None, None) is False
    with pytest.raises(ValueError, match="no download for 'ml-1m'"):
        download_dataset("ml-1m", tmp_path)


def test_download_skips_verified_files_without_network(tmp_path):
    # files already present and matching: nothing is fetched (base_url is unusable on purpose)
    folder = tmp_path / "gowalla"
    folder.mkdir()
    import hashlib
    table = {}
    for file in DOWNLOADS["gowalla"]:
        (folder / file).write_text(f"{file}\n")
        table[file] = (hashlib.sha256(f"{file}\n".encode()).hexdigest(), None)
    saved = DOWNLOADS["gowalla"]
    DOWNLOADS["gowalla"] = table
    try:
        assert download_dataset("gowalla", tmp_path, base_url="http://invalid.invalid") == folder
    finally:
        DOWNLOADS["gowalla"] = saved


@pytest.mark.data
def test_ml1m_shape():
    d = load_lightgcn_split(data_path("ml-1m"))
    assert (d.num_users, d.num_items, d.num_train, d.num_test) == (6022, 3043, 796244, 99455)
    assert torch.equal(d.user_degree() > 0, torch.ones(6022, dtype=torch.bool))
