"""Readers and InteractionData: every bad input gets a clear error; good input round-trips."""

import pytest
import torch

from graphnets.recsys import InteractionData, load_lightgcn_split, read_user_item_lines
from graphnets.recsys.datasets import load_dataset
from graphnets.recsys.recbole import load_recbole, read_inter
from graphnets.recsys.synthetic import make_synthetic
from graphnets.recsys.text_format import write_user_item_lines


def write_split(folder, train: str, test: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.txt").write_text(train)
    (folder / "test.txt").write_text(test)
    return folder


def test_reads_the_lightgcn_format(tmp_path):
    d = load_lightgcn_split(write_split(tmp_path / "toy", "0 1 2\n1 0\n\n2 3 1\n", "0 3\n1 2\n2 0\n"))
    assert (d.name, d.num_users, d.num_items, d.num_train, d.num_test) == ("toy", 3, 4, 5, 3)
    indptr, items = d.train_csr()
    assert indptr.tolist() == [0, 2, 3, 5] and items.tolist() == [1, 2, 0, 1, 3]
    assert d.user_degree().tolist() == [2, 1, 2] and d.item_degree().tolist() == [1, 2, 1, 1]
    g = d.bipartite_graph()
    assert g.shape == (7, 7) and g.num_edges == 10 and g.is_symmetric(atol=1e-7)


def test_writer_round_trips(tmp_path):
    users, items = torch.tensor([2, 0, 0]), torch.tensor([1, 3, 0])
    write_user_item_lines(tmp_path / "x.txt", users, items, num_users=4)
    assert (tmp_path / "x.txt").read_text() == "0 0 3\n1\n2 1\n3\n"
    u, i = read_user_item_lines(tmp_path / "x.txt")
    assert u.tolist() == [0, 0, 2] and i.tolist() == [0, 3, 1]


@pytest.mark.parametrize(
    "train, match",
    [
        ("0 1 x\n", r"train.txt:1: expected integer ids .*got token 'x'"),
        ("0 1\n1 -2\n", r"train.txt:2: ids must be >= 0 \(got -2\)"),
        ("0 1 1\n", r"train.txt:1: user 0 lists an item more than once"),
        ("", r"train.txt is empty"),
        ("\n  \n", r"train.txt is empty"),
    ],
)
def test_bad_lines(tmp_path, train, match):
    with pytest.raises(ValueError, match=match):
        load_lightgcn_split(write_split(tmp_path / "bad", train, "0 2\n"))


def test_duplicates_across_lines_and_out_of_range_ids(tmp_path):
    with pytest.raises(ValueError, match="pairs must be unique within the train split"):
        load_lightgcn_split(write_split(tmp_path / "a", "0 1\n0 1 2\n", "0 3\n"))
    with pytest.raises(ValueError, match=r"item ids must lie in \[0, 3\) \(got id 5\)"):
        load_lightgcn_split(write_split(tmp_path / "b", "0 1\n", "0 5\n"), num_items=3)
    with pytest.raises(ValueError, match=r"user ids must lie in \[0, 1\)"):
        load_lightgcn_split(write_split(tmp_path / "c", "0 1\n1 0\n", "0 2\n"), num_users=1)
    with pytest.raises(FileNotFoundError, match="no such dataset folder"):
        load_lightgcn_split(tmp_path / "missing")


def test_user_without_train_items(tmp_path):
    folder = write_split(tmp_path / "cold", "0 1\n1\n", "0 2\n1 0\n")
    with pytest.raises(ValueError, match=r"needs at least one train item \(got 1 such users, e.g. user 1\)"):
        load_lightgcn_split(folder)
    d = load_lightgcn_split(folder, cold_users="drop")
    assert d.test_users.tolist() == [0] and d.num_users == 2


def test_interaction_data_validation():
    one = torch.tensor([0])
    with pytest.raises(ValueError, match="at least one interaction"):
        InteractionData(torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64), one, one)
    with pytest.raises(TypeError, match="integer tensor"):
        InteractionData(torch.tensor([0.0]), one, one, one)
    with pytest.raises(ValueError, match="equal length"):
        InteractionData(torch.tensor([0, 1]), one, one, one)
    with pytest.raises(ValueError, match=r"item ids must be >= 0 \(got -1\)"):
        InteractionData(one, torch.tensor([-1]), one, one)
    with pytest.raises(ValueError, match="cold_users must be"):
        InteractionData(one, one, one, torch.tensor([1]), cold_users="keep")


def test_recbole_inter_files(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    header = "user_id:token\titem_id:token\trating:float\n"
    (folder / "ml.train.inter").write_text(header + "u1\ta\t5\nu1\tb\t3\nu2\tb\t4\n")
    (folder / "ml.test.inter").write_text(header + "u1\tc\t1\nu2\ta\t2\n")
    d = load_recbole(folder)
    assert (d.num_users, d.num_items, d.num_train, d.num_test) == (2, 3, 3, 2)
    assert d.user_tokens == ["u1", "u2"] and d.item_tokens == ["a", "b", "c"]
    assert d.test_items.tolist() == [2, 0]
    (folder / "ml.train.inter").write_text(header + "u1\ta\t5\nu1\ta\t3\nu2\tb\t4\n")
    with pytest.raises(ValueError, match="repeats \\(user, item\\) pairs"):
        load_recbole(folder)
    assert load_recbole(folder, drop_duplicates=True).num_train == 2
    (folder / "ml.train.inter").write_text(header + "u1\ta\n")
    with pytest.raises(ValueError, match=r"ml.train.inter:2: expected 3 tab-separated columns \(got 2\)"):
        load_recbole(folder)
    (folder / "ml.train.inter").write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_inter(folder / "ml.train.inter")
    (folder / "ml.train.inter").write_text("uid:token\titem_id:token\n")
    with pytest.raises(ValueError, match="header must name columns 'user_id' and 'item_id'"):
        read_inter(folder / "ml.train.inter")


def test_recbole_single_file_is_split_per_user(tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    rows = "".join(f"{u}\t{i}\n" for u in range(4) for i in range(u, u + 5))
    (folder / "one.inter").write_text("user_id:token\titem_id:token\n" + rows)
    d = load_recbole(folder, test_ratio=0.2, generator=torch.Generator().manual_seed(0))
    assert d.num_train == 16 and d.num_test == 4
    assert torch.bincount(d.test_users).tolist() == [1, 1, 1, 1]


def test_synthetic_is_seeded_and_valid():
    a = make_synthetic(200, 150, mean_items=12, generator=torch.Generator().manual_seed(3))
    b = make_synthetic(200, 150, mean_items=12, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.train_items, b.train_items) and torch.equal(a.test_users, b.test_users)
    assert int(a.user_degree().min()) >= 1 and a.test_user_ids().numel() == 200
    ratio = a.num_test / (a.num_train + a.num_test)
    assert 0.15 < ratio < 0.35
    with pytest.raises(ValueError, match="test_ratio must lie in"):
        make_synthetic(10, 10, mean_items=5, test_ratio=1.0)


def test_load_dataset_dispatch(tmp_path):
    assert load_dataset("synthetic", seed=1).name == "synthetic"
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        load_dataset("gowalla", tmp_path)
    with pytest.raises(FileNotFoundError, match="no train.txt/test.txt or .inter files"):
        load_dataset("nothing", tmp_path)
