"""sampling.Loader: prefetching equals the plain loop; shutdown on errors; bad input; larger-than-budget mmap."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import torch
from torch import nn

import cuda_ext
from sampling import FeatureStore, Graph, Loader, NeighborSampler, synthetic_node_dataset
from tests.helpers import REPO
from tests.sampling.fakes import FakeRuntime


def _data(num_edges=6000, dim=8, seed=0):
    return synthetic_node_dataset(
        num_edges, torch.Generator().manual_seed(seed), num_classes=4, feature_dim=dim, train_fraction=0.5
    )


class MeanSAGE(nn.Module):
    """Two mean-aggregation layers on blocks (a test model: h_dst W_s + mean(h_src) W_n)."""

    def __init__(self, dim, hidden, classes):
        super().__init__()
        self.layers = nn.ModuleList(
            [
                nn.ModuleList([nn.Linear(dim, hidden), nn.Linear(dim, hidden)]),
                nn.ModuleList([nn.Linear(hidden, classes), nn.Linear(hidden, classes)]),
            ]
        )

    def forward(self, blocks, x):
        for i, (block, (lin_self, lin_nbr)) in enumerate(zip(blocks, self.layers)):
            agg = cuda_ext.spmm(block.graph.normalize("row"), x)  # [num_dst, F]
            x = lin_self(x[: block.num_dst]) + lin_nbr(agg)
            if i < len(self.layers) - 1:
                x = x.relu()
        return x


def _train_epoch(loader, seed=0):
    torch.manual_seed(seed)
    model = MeanSAGE(loader.features.shape[1], 16, 4).to(loader.device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses, inputs = [], []
    for batch in loader:
        loss = nn.functional.cross_entropy(model(batch.blocks, batch.x), batch.y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        inputs.append(batch.input_nodes.clone())
    return losses, inputs


def _loader_threads():
    return [t for t in threading.enumerate() if t.name == "graphspike-loader" and t.is_alive()]


def test_prefetching_gives_the_same_batches_and_losses_as_the_plain_loop():
    data = _data()
    sampler = NeighborSampler(data.graph, [5, 3])
    store = FeatureStore(data.features)
    runs = {}
    for prefetch in (0, 1, 3):
        loader = Loader(
            sampler,
            store,
            data.train,
            labels=data.labels,
            batch_size=64,
            prefetch=prefetch,
            generator=torch.Generator().manual_seed(42),
        )
        runs[prefetch] = _train_epoch(loader)
    assert len(runs[0][0]) == len(loader) == -(-data.train.numel() // 64)
    for prefetch in (1, 3):
        assert runs[prefetch][0] == runs[0][0]  # bitwise-equal losses
        assert all(torch.equal(a, b) for a, b in zip(runs[prefetch][1], runs[0][1]))
    assert not _loader_threads()


def test_epochs_differ_and_batches_cover_the_seeds_once():
    data = _data()
    loader = Loader(
        NeighborSampler(data.graph, [2]), None, data.train, batch_size=50, generator=torch.Generator().manual_seed(1)
    )
    first = torch.cat([b.seeds for b in loader])
    second = torch.cat([b.seeds for b in loader])
    assert torch.equal(first.sort().values, data.train) and not torch.equal(first, second)
    ordered = Loader(NeighborSampler(data.graph, [2]), None, data.train, batch_size=50, shuffle=False, drop_last=True)
    seeds = [b.seeds for b in ordered]
    assert len(seeds) == len(ordered) == data.train.numel() // 50 and torch.equal(
        torch.cat(seeds), data.train[: 50 * len(seeds)]
    )
    batch = next(iter(ordered))
    assert batch.x is None and batch.y is None and batch.num_edges == batch.blocks[0].num_edges


@pytest.mark.parametrize("num_workers,prefetch", [(2, 2), (3, 4)])
def test_workers_give_the_batches_of_the_plain_loop_in_order(num_workers, prefetch):
    data = _data()
    sampler = NeighborSampler(data.graph, [5, 3])
    store = FeatureStore(data.features)

    def epochs(**kwargs):
        loader = Loader(
            sampler,
            store,
            data.train,
            labels=data.labels,
            batch_size=20,
            generator=torch.Generator().manual_seed(3),
            **kwargs,
        )
        return [[(b.index, b.input_nodes, b.blocks[0].graph.indices, b.x, b.y) for b in loader] for _ in range(2)]

    plain = epochs(prefetch=0)
    threads = set()

    class Recording(NeighborSampler):
        def sample_blocks(self, seeds, generator=None):
            threads.add(threading.current_thread().ident)
            return super().sample_blocks(seeds, generator)

    loader = Loader(
        Recording(data.graph, [5, 3]),
        store,
        data.train,
        labels=data.labels,
        batch_size=20,
        prefetch=prefetch,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(3),
    )
    for want_epoch in plain:
        threads.clear()
        epoch = [(b.index, b.input_nodes, b.blocks[0].graph.indices, b.x, b.y) for b in loader]
        assert [e[0] for e in epoch] == list(range(len(loader))) and len(epoch) == len(want_epoch) >= 2 * num_workers
        for got, want in zip(epoch, want_epoch):
            assert all(torch.equal(a, b) for a, b in zip(got[1:], want[1:]))
        assert len(threads) == num_workers and threading.current_thread().ident not in threads
    assert not _loader_threads()


def test_a_seeded_generator_fixes_every_epoch():
    data = _data()
    sampler = NeighborSampler(data.graph, [4, 2])

    def inputs(seed, **kwargs):
        loader = Loader(
            sampler, None, data.train, batch_size=64, generator=torch.Generator().manual_seed(seed), **kwargs
        )
        return [torch.cat([b.input_nodes for b in loader]) for _ in range(3)]

    first = inputs(5)
    assert all(torch.equal(a, b) for a, b in zip(first, inputs(5, prefetch=3, num_workers=2)))
    assert not torch.equal(first[0], first[1])  # each epoch draws a new plan
    assert not any(torch.equal(a, b) for a, b in zip(first, inputs(6)))
    torch.manual_seed(0)  # the global generator does not enter once a generator is given
    torch.rand(7)
    assert all(torch.equal(a, b) for a, b in zip(first, inputs(5)))


@pytest.mark.parametrize("num_workers", [1, 3])
def test_a_consumer_that_raises_leaves_no_thread_and_nothing_pinned(num_workers):
    data = _data()
    rt = FakeRuntime()
    with pytest.raises(RuntimeError, match="consumer failed"):
        with FeatureStore(data.features.clone(), "pinned", runtime=rt) as store:
            loader = Loader(
                NeighborSampler(data.graph, [4, 4]),
                store,
                data.train,
                batch_size=16,
                prefetch=3,
                num_workers=num_workers,
            )
            for i, _ in enumerate(loader):
                assert _loader_threads()
                if i == 2:
                    raise RuntimeError("consumer failed")
    assert not _loader_threads()
    assert rt.registered == {}


@pytest.mark.parametrize("num_workers", [1, 2])
def test_breaking_early_and_close_stop_the_worker(num_workers):
    data = _data()
    loader = Loader(
        NeighborSampler(data.graph, [4]),
        FeatureStore(data.features),
        data.train,
        batch_size=8,
        prefetch=4,
        num_workers=num_workers,
    )
    for _ in loader:
        break
    assert not _loader_threads()  # the released iterator was finalised
    with loader:
        epoch = iter(loader)
        next(epoch)
        assert _loader_threads()
    assert not _loader_threads()
    with pytest.raises(StopIteration):
        next(epoch)


@pytest.mark.parametrize("prefetch,num_workers", [(0, 1), (2, 1), (3, 3)])
def test_a_failing_worker_raises_in_the_consumer_at_its_batch(prefetch, num_workers):
    data = _data()
    bad = set(data.train[64:96].tolist())  # the seeds of batch 2 (no shuffling)

    class Failing(NeighborSampler):
        def sample_blocks(self, seeds, generator=None):
            if seeds.numel() and int(seeds[0]) in bad:
                raise ValueError("sampler exploded")
            return super().sample_blocks(seeds, generator)

    loader = Loader(
        Failing(data.graph, [3]),
        None,
        data.train,
        batch_size=32,
        shuffle=False,
        prefetch=prefetch,
        num_workers=num_workers,
    )
    got = []
    with pytest.raises(ValueError, match="sampler exploded"):
        for batch in loader:
            got.append(batch.index)
    assert got == [0, 1] and not _loader_threads()


def test_bad_input():
    data = _data()
    sampler = NeighborSampler(data.graph, [2])
    n = data.graph.num_nodes
    with pytest.raises(ValueError, match=rf"one row per node of the graph \({n}\) \(got {n - 1} rows\)"):
        Loader(sampler, FeatureStore(data.features[:-1]), data.train)
    with pytest.raises(ValueError, match=r"labels must have one row per node"):
        Loader(sampler, None, data.train, labels=data.labels[:3])
    with pytest.raises(ValueError, match=rf"seeds must lie in \[0, {n}\) \(got min 0, max {n}\)"):
        Loader(sampler, None, torch.tensor([0, n]))
    with pytest.raises(ValueError, match="seed mask must have one entry per node"):
        Loader(sampler, None, torch.ones(3, dtype=torch.bool))
    for kwargs, match in (
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"prefetch": -1}, "prefetch must be an int >= 0"),
        ({"num_workers": 0}, r"num_workers must be an int >= 1 \(got 0\)"),
    ):
        with pytest.raises(ValueError, match=match):
            Loader(sampler, None, data.train, **kwargs)
    with pytest.raises(TypeError, match="sampler must be a NeighborSampler"):
        Loader(data.graph, None, data.train)
    with pytest.raises(TypeError, match="features must be a sampling.FeatureStore"):
        Loader(sampler, data.features, data.train)
    store = FeatureStore(data.features)
    loader = Loader(sampler, store, data.train, batch_size=8)
    store.close()
    with pytest.raises(ValueError, match="the store is closed"):
        next(iter(loader))
    assert not _loader_threads()


def test_mask_seeds():
    data = _data()
    mask = torch.zeros(data.graph.num_nodes, dtype=torch.bool)
    mask[data.val] = True
    loader = Loader(NeighborSampler(data.graph, [2]), None, mask, shuffle=False, batch_size=10**6)
    assert torch.equal(next(iter(loader)).seeds, data.val)


_BUDGET_SCRIPT = textwrap.dedent("""
    import gc, resource, sys, threading
    import torch
    sys.path.insert(0, sys.argv[1])
    from sampling import FeatureStore, Graph, Loader, NeighborSampler
    from tests.sampling.test_loader import MeanSAGE
    path, budget, n, slack = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(1)
    threading.stack_size(2 << 20)  # the loader thread's stack counts against the cap: 2 MB, not the 8 MB default

    def cap():
        # private writable memory (heap, anonymous maps, thread stacks) capped at now + budget + a slack for the
        # runtime (the loader thread's stack and malloc arena, autograd buffers); the table is larger than the cap.
        # Collected first, so no garbage freed later (a transient tensor's map) widens the room.
        gc.collect()
        data_kb = int(next(l for l in open("/proc/self/status") if l.startswith("VmData")).split()[1])
        limit = data_kb * 1024 + budget + slack
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    if sys.argv[6] == "cpu":  # its own process, capped before anything large exists: the table must not fit
        cap()
        try:
            FeatureStore(path, "cpu")
            print("cpu: loaded")
        except (MemoryError, RuntimeError) as err:  # torch's allocator raises RuntimeError
            print("cpu: out of memory" if "allocate" in str(err) else f"cpu: {err}")
        sys.exit(0)
    g = torch.Generator().manual_seed(0)
    graph = Graph.from_edge_index(torch.randint(0, n, (2, 8 * n), generator=g), num_nodes=n)
    labels = torch.randint(0, 4, (n,), generator=g)
    sampler = NeighborSampler(graph, [3, 3])
    model = MeanSAGE(64, 16, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    cap()
    with FeatureStore(path, "mmap", memory_budget=budget) as store:
        assert store.nbytes == 2 * budget
        seen = torch.zeros(n, dtype=torch.bool)
        for batch in Loader(sampler, store, torch.arange(n), labels=labels, batch_size=1024, prefetch=1):
            loss = torch.nn.functional.cross_entropy(model(batch.blocks, batch.x), batch.y)
            opt.zero_grad(); loss.backward(); opt.step()
            seen[batch.input_nodes] = True
    print(f"mmap: trained loss={loss.item():.3f} rows_read={int(seen.sum())}/{n}")
""")


@pytest.mark.slow
def test_a_table_twice_the_memory_budget_trains_through_mmap(tmp_path):
    budget = 48 << 20
    slack = 24 << 20  # runtime headroom: 48 MB + 24 MB of private memory, below the 96 MB table
    n = 2 * budget // (64 * 4)  # float32 rows of 64: the table is twice the budget
    path = tmp_path / "x.npy"
    table = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 64))
    for start in range(0, n, 1 << 16):
        table[start : start + (1 << 16)] = np.random.default_rng(start).standard_normal((min(1 << 16, n - start), 64))
    table.flush()
    del table
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "PYTHONPATH": str(REPO)}
    runs = {}
    for mode in ("cpu", "mmap"):
        runs[mode] = subprocess.run(
            [sys.executable, "-c", _BUDGET_SCRIPT, str(REPO), str(path), str(budget), str(n), str(slack), mode],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert runs[mode].returncode == 0, runs[mode].stderr[-3000:]
    assert "cpu: out of memory" in runs["cpu"].stdout  # the limit is real: the table does not fit in it
    out = runs["mmap"].stdout
    assert "mmap: trained" in out and f"rows_read={n}/{n}" in out, out


@pytest.mark.cuda
def test_gpu_prefetch_equals_plain_loop_with_pinned_features():
    data = _data(num_edges=20_000, dim=32)
    sampler = NeighborSampler(data.graph, [5, 3])
    with FeatureStore(data.features.clone(), "pinned") as store:
        runs = [
            _train_epoch(
                Loader(
                    sampler,
                    store,
                    data.train,
                    labels=data.labels,
                    batch_size=64,
                    prefetch=p,
                    generator=torch.Generator().manual_seed(7),
                ),
                seed=0,
            )
            for p in (0, 2)
        ]
    assert [torch.tensor(r[0]) for r in runs][0].allclose(torch.tensor(runs[1][0]))
    assert all(torch.equal(a.cpu(), b.cpu()) for a, b in zip(runs[0][1], runs[1][1]))


def test_empty_seed_set():
    graph = Graph(torch.zeros(3, dtype=torch.int64), torch.empty(0, dtype=torch.int64))
    loader = Loader(NeighborSampler(graph, [1]), None, torch.empty(0, dtype=torch.int64))
    assert len(loader) == 0 and list(loader) == []
