"""Planetoid reader: PyG parity on real Cora, public split, and clear errors on bad/missing files."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphnets.node import load_planetoid
from graphnets.node.planetoid import planetoid_files
from sampling import InvalidGraphError
from tests.helpers import data_path


def write_tiny_planetoid(root, name="cora", graph=None, n_train=2, n_val_extra=2, n_test=3, feats=4, classes=2):
    """Tiny raw Planetoid files in the exact format (Python pickles + test.index)."""
    n_all = n_train + n_val_extra
    n = n_all + n_test
    rng = np.random.default_rng(0)
    x_all = sp.csr_matrix((rng.random((n_all, feats)) > 0.5).astype(np.float32))
    tx = sp.csr_matrix((rng.random((n_test, feats)) > 0.5).astype(np.float32))
    ally = np.eye(classes)[np.arange(n_all) % classes]
    ty = np.eye(classes)[np.arange(n_test) % classes]
    test_index = np.arange(n_all, n)[::-1]  # unsorted on purpose
    if graph is None:
        graph = {i: [(i + 1) % n, (i - 1) % n] for i in range(n)}
    parts = {"x": x_all[:n_train], "y": ally[:n_train], "allx": x_all, "ally": ally, "tx": tx, "ty": ty, "graph": graph}
    for part, obj in parts.items():
        with open(root / f"ind.{name}.{part}", "wb") as f:
            pickle.dump(obj, f)
    (root / f"ind.{name}.test.index").write_text("\n".join(str(i) for i in test_index) + "\n")
    return n


def test_tiny_files_roundtrip(tmp_path):
    n = write_tiny_planetoid(tmp_path)
    d = load_planetoid(tmp_path, "cora")
    assert d.num_nodes == n and d.num_features == 4 and d.num_classes == 2
    assert d.graph.is_symmetric() and d.graph.num_edges == 2 * n
    assert d.split.train.tolist() == [0, 1] and d.split.test.tolist() == [6, 5, 4]
    # row i of tx / ty belongs to node test.index[i] (= 6, 5, 4 here)
    with open(tmp_path / "ind.cora.tx", "rb") as f:
        tx = pickle.load(f).toarray()
    assert torch.equal(d.x[6], torch.from_numpy(tx[0]))
    assert torch.equal(d.x[4], torch.from_numpy(tx[2]))
    assert d.y[6] == 0 and d.y[5] == 1 and d.y[4] == 0


def test_missing_corrupt_and_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_planetoid(tmp_path, "reddit")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_planetoid(tmp_path / "nope", "cora")
    write_tiny_planetoid(tmp_path)
    (tmp_path / "ind.cora.ty").unlink()
    with pytest.raises(FileNotFoundError, match=r"ind\.cora\.ty"):
        load_planetoid(tmp_path, "cora")
    write_tiny_planetoid(tmp_path)
    (tmp_path / "ind.cora.allx").write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match="corrupt"):
        load_planetoid(tmp_path, "cora")
    write_tiny_planetoid(tmp_path, graph={0: [1, 99]})
    with pytest.raises(ValueError, match="outside"):
        load_planetoid(tmp_path, "cora")


def test_pubmed_without_allx_says_why(tmp_path):
    write_tiny_planetoid(tmp_path, name="pubmed")
    (tmp_path / "ind.pubmed.allx").unlink()
    with pytest.raises(FileNotFoundError, match="cannot be trained on"):
        load_planetoid(tmp_path, "pubmed")


def test_graph_with_index_out_of_range_is_rejected_by_graph():
    with pytest.raises(InvalidGraphError, match="indices must lie"):
        from sampling import Graph

        Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 5]))


@pytest.mark.data
def test_cora_matches_pyg_reader():
    from torch_geometric.io.planetoid import read_planetoid_data

    root = data_path("planetoid")
    ours = load_planetoid(root, "Cora")
    ref = read_planetoid_data(str(root), "cora")
    assert torch.equal(ours.x, ref.x)
    assert torch.equal(ours.y, ref.y)
    ei, _ = ours.graph.to_edge_index()

    def key(e):
        return set((e[0] * 10_000 + e[1]).tolist())

    assert key(ei) == key(ref.edge_index) and ei.shape[1] == 10556
    for name in ("train", "val", "test"):
        assert torch.equal(
            torch.sort(getattr(ours.split, name)).values, getattr(ref, f"{name}_mask").nonzero().view(-1)
        )
    assert ours.split.train.numel() == 140 and ours.split.val.numel() == 500 and ours.split.test.numel() == 1000
    assert torch.bincount(ours.y[ours.split.train]).tolist() == [20] * 7


@pytest.mark.data
def test_real_pubmed_lacks_allx():
    root = data_path("planetoid")
    if planetoid_files(root, "pubmed")["allx"].exists():
        pytest.skip("this data folder has ind.pubmed.allx")
    with pytest.raises(FileNotFoundError, match="allx"):
        load_planetoid(root, "pubmed")


class _RunsCode:
    """Unpickling this calls os.system: what a tampered download could hold."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("part", ["x", "ally", "graph"])
def test_a_tampered_file_cannot_run_code(tmp_path, part):
    from sampling.safe_pickle import UnsafePickleError

    write_tiny_planetoid(tmp_path)
    marker = tmp_path / "pwned"
    payload = {0: [1, _RunsCode(marker)]} if part == "graph" else [_RunsCode(marker)]
    (tmp_path / f"ind.cora.{part}").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(
        UnsafePickleError, match=rf"load_planetoid: refusing to load \w+\.system from ind\.cora\.{part}"
    ):
        load_planetoid(tmp_path, "cora")
    assert not marker.exists()
    # a Python 2 pickle (as the real files are) naming a builtin that evaluates code
    (tmp_path / f"ind.cora.{part}").write_bytes(b"c__builtin__\neval\n(S'__import__(\"os\").getcwd()'\ntR.")
    with pytest.raises(ValueError, match=r"refusing to load __builtin__\.eval"):
        load_planetoid(tmp_path, "cora")


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_every_pickle_protocol_and_a_defaultdict_graph_load(tmp_path, protocol):
    """The real files are protocol-2 Python 2 pickles with a defaultdict graph; re-saved copies may use any protocol."""
    from collections import defaultdict

    write_tiny_planetoid(tmp_path)
    ref = load_planetoid(tmp_path, "cora")
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph"):
        path = tmp_path / f"ind.cora.{part}"
        with open(path, "rb") as f:
            obj = pickle.load(f)  # our own test file
        if part == "graph":
            obj = defaultdict(list, obj)
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    d = load_planetoid(tmp_path, "cora")
    assert torch.equal(d.x, ref.x) and torch.equal(d.y, ref.y)
    assert torch.equal(d.graph.to_edge_index()[0], ref.graph.to_edge_index()[0])


def test_allowed_classes_carrying_bad_data_are_refused(tmp_path):
    write_tiny_planetoid(tmp_path)
    m = sp.csr_matrix(np.eye(4, dtype=np.float32))
    m.indices[1] = 1_000_000  # scipy's toarray() would write outside the array
    (tmp_path / "ind.cora.allx").write_bytes(pickle.dumps(m, protocol=2))
    with pytest.raises(
        ValueError,
        match=r"load_planetoid: ind\.cora\.allx holds an inconsistent array or matrix \(indices must be < 4\)",
    ):
        load_planetoid(tmp_path, "cora")

    write_tiny_planetoid(tmp_path)
    (tmp_path / "ind.cora.ty").write_bytes(pickle.dumps(np.array([[1, "a"]], dtype=object), protocol=2))
    with pytest.raises(ValueError, match=r"ind\.cora\.ty holds an array of dtype 'O8' \(only booleans, integers"):
        load_planetoid(tmp_path, "cora")

    write_tiny_planetoid(tmp_path)
    (tmp_path / "ind.cora.tx").write_bytes(pickle.dumps(sp.csr_matrix(np.full((3, 4), np.nan, np.float32))))
    with pytest.raises(ValueError, match=r"ind\.cora\.tx holds a non-finite value in row 0"):
        load_planetoid(tmp_path, "cora")

    write_tiny_planetoid(tmp_path)
    (tmp_path / "ind.cora.x").write_bytes(pickle.dumps(sp.csr_matrix((2**20, 2**20), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"claims a 1048576 x 1048576 matrix"):
        load_planetoid(tmp_path, "cora")

    write_tiny_planetoid(tmp_path, graph={0: [1, "2"]})
    with pytest.raises(ValueError, match="integer node ids to lists of integer neighbour ids"):
        load_planetoid(tmp_path, "cora")
