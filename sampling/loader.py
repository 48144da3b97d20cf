r"""``Loader``: seeds -> sample -> gather -> transfer, batch ``i + 1`` prepared while batch ``i`` computes.

One epoch is a fixed plan drawn from the loader's ``torch.Generator`` when iteration starts: a
permutation of the seed nodes (``shuffle=True``) cut into batches, and one 63-bit sampling seed
per batch. Batch ``b`` is sampled with ``torch.Generator(sampler.device).manual_seed(seed_b)``,
so its blocks depend only on the plan, not on which thread samples it or when: the prefetching
loader (``prefetch >= 1``: ``num_workers`` threads prepare up to ``prefetch`` batches ahead --
worker ``w`` takes batches ``w, w + num_workers, ...`` into its own bounded queue, and the consumer
reads the queues in turn) yields exactly the batches of the plain loop (``prefetch=0``: each batch
prepared when asked for), in the same order, whatever ``num_workers``.

Preparing a batch: :meth:`NeighborSampler.sample_blocks` on the seeds, then
:meth:`FeatureStore.gather_async` of ``blocks[0].src_nodes`` (the input features), the blocks
and labels moved to the compute device. On a GPU the worker's work runs on a side stream and the
consumer's stream waits on an event, so copies overlap compute; on the CPU the worker threads
overlap sampling (torch ops release the GIL) with the consumer's training step and with each other.
An error raised while preparing batch ``b`` is re-raised in the consumer when it asks for batch
``b`` (the batches before it are delivered first), and every worker is stopped.

Shutdown: the epoch iterator stops its workers (a stop flag, the queues drained so a blocked
``put`` returns, the threads joined) when the epoch ends, when the consumer breaks out of the loop
or raises (the iterator is released), on :meth:`Loader.close` / ``with`` exit, and by a finaliser.
Pending batches -- and the pinned staging buffers they hold -- are dropped with the queue.
Unpinning a ``"pinned"`` :class:`FeatureStore` is the store's own ``close``/``with``.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import torch
from torch import Tensor

from sampling.block import Block
from sampling.feature_store import FeatureStore, GatherHandle

__all__ = ["Loader", "MiniBatch"]

log = logging.getLogger(__name__)
_JOIN_SECONDS = 60.0


@dataclass(frozen=True)
class MiniBatch:
    """One prepared batch, every tensor on the loader's device.

    Attributes:
        index: batch number within the epoch.
        seeds: ``[B]`` global ids of the output nodes (``blocks[-1].dst_nodes``).
        blocks: message-flow blocks, input layer first (:meth:`NeighborSampler.sample_blocks`).
        x: ``[blocks[0].num_src, *D]`` input features of ``blocks[0].src_nodes`` (``None`` when the
            loader has no feature store).
        y: ``[B]`` labels of the seeds, or ``None``.
    """

    index: int
    seeds: Tensor
    blocks: tuple[Block, ...]
    x: Optional[Tensor]
    y: Optional[Tensor]

    @property
    def input_nodes(self) -> Tensor:
        """``[blocks[0].num_src]`` global ids whose features ``x`` holds."""
        return self.blocks[0].src_nodes

    @property
    def num_edges(self) -> int:
        """Sampled edges over all blocks."""
        return sum(b.num_edges for b in self.blocks)


@dataclass
class _Pending:
    index: int
    seeds: Tensor
    blocks: tuple[Block, ...]
    features: Optional[GatherHandle]
    y: Optional[Tensor]
    event: Any  # CUDA event after the blocks' transfer, or None


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _work(prepare: Callable[[Any], _Pending], plan: list, q: queue.Queue, stop: threading.Event) -> None:
    """Worker body over its share of the plan; holds no reference to the epoch iterator, so
    dropping that finalises it. A failure ends this worker's share (the consumer stops the rest)."""
    try:
        for item in plan:
            if stop.is_set():
                return
            if not _put(q, prepare(item), stop):
                return
    except BaseException as err:  # handed to the consumer, re-raised there at this batch's turn
        _put(q, _Failure(err), stop)


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def _shutdown(stop: threading.Event, queues: list[queue.Queue], threads: list[threading.Thread]) -> None:
    stop.set()
    for q in queues:
        _drain(q)
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(_JOIN_SECONDS)
            if thread.is_alive():
                log.warning("Loader: a worker thread did not stop within %.0f s", _JOIN_SECONDS)
    for q in queues:
        _drain(q)


class _Epoch(Iterator[MiniBatch]):
    """One pass over the plan; :meth:`close` (or dropping it) stops the workers."""

    def __init__(self, loader: "Loader", plan: list) -> None:
        self._loader = loader
        self._plan = plan
        self._next = 0
        self._stop = threading.Event()
        self._queues: list[queue.Queue] = []
        self._threads: list[threading.Thread] = []
        if loader.prefetch > 0 and plan:
            workers = min(loader.num_workers, len(plan))
            depth = -(-loader.prefetch // workers)  # ceil: about ``prefetch`` batches ahead in all
            for w in range(workers):
                q: queue.Queue = queue.Queue(maxsize=depth)
                thread = threading.Thread(
                    target=_work,
                    args=(loader._prepare, plan[w::workers], q, self._stop),
                    name="graphspike-loader",
                    daemon=True,
                )
                self._queues.append(q)
                self._threads.append(thread)
            for thread in self._threads:
                thread.start()
        self._finalizer = weakref.finalize(self, _shutdown, self._stop, self._queues, self._threads)

    def __iter__(self) -> "_Epoch":
        return self

    def __next__(self) -> MiniBatch:
        if not self._finalizer.alive:
            raise StopIteration
        if self._next >= len(self._plan):
            self.close()
            raise StopIteration
        if not self._queues:
            pending = self._loader._prepare(self._plan[self._next])
        else:
            pending = self._get(self._next % len(self._queues))
        self._next += 1
        try:
            return self._loader._finish(pending)
        except BaseException:
            self.close()
            raise

    def _get(self, w: int) -> _Pending:
        q, thread = self._queues[w], self._threads[w]
        while True:
            try:
                item = q.get(timeout=0.1)
                break
            except queue.Empty:
                if not thread.is_alive() and q.empty():
                    self.close()
                    raise RuntimeError("Loader: a worker thread ended without finishing the epoch") from None
        if isinstance(item, _Failure):
            self.close()
            raise item.error
        return item

    def close(self) -> None:
        """Stop the workers and drop prepared batches (idempotent)."""
        self._finalizer()


class Loader:
    """Mini-batches of sampled blocks with their input features, prefetched on a worker thread.

    Args:
        sampler: a :class:`sampling.NeighborSampler` (anything with ``sample_blocks(seeds,
            generator)``, ``num_nodes`` and ``device``).
        features: a :class:`sampling.FeatureStore` with one row per node, or ``None`` (blocks only).
        seeds: the nodes to iterate over: ``[S]`` int64/int32 ids, or a ``[num_nodes]`` bool mask.
        labels: optional ``[num_nodes, ...]`` tensor; each batch carries ``labels[seeds]``.
        batch_size: seeds per batch (``>= 1``).
        shuffle: permute the seeds every epoch (from ``generator``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: CPU ``torch.Generator`` for the epoch plans; ``None`` seeds a new one from
            torch's global generator at construction.
        prefetch: batches prepared ahead by the worker threads; ``0`` prepares each batch in the
            consumer's thread (the plain loop).
        num_workers: threads preparing batches when ``prefetch >= 1`` (``>= 1``; at most
            ``prefetch`` are useful). Worker ``w`` prepares batches ``w, w + num_workers, ...``;
            the batches and their order do not depend on it. On the CPU more than one helps when
            sampling and gathering take longer than the training step and cores are free.
        device: compute device of the batches; defaults to ``features.device`` (or the
            sampler's device without features).

    Attributes:
        every argument above (``seeds`` as an int64 id tensor on the CPU).

    Raises:
        TypeError: wrong argument types.
        ValueError: ``batch_size < 1``, ``prefetch < 0``, ``num_workers < 1``, seeds out of range, a feature table or
            label tensor whose row count differs from the graph's number of nodes.

    Example:
        >>> loader = Loader(sampler, store, train_ids, labels=y, batch_size=512)   # doctest: +SKIP
        >>> for batch in loader:                                                # doctest: +SKIP
        ...     out = model(batch.blocks, batch.x)
        ...     loss = F.cross_entropy(out, batch.y)
    """

    def __init__(
        self,
        sampler: Any,
        features: Optional[FeatureStore],
        seeds: Tensor,
        *,
        labels: Optional[Tensor] = None,
        batch_size: int = 512,
        shuffle: bool = True,
        drop_last: bool = False,
        generator: Optional[torch.Generator] = None,
        prefetch: int = 2,
        num_workers: int = 1,
        device: Any = None,
    ) -> None:
        fn = "Loader"
        if not callable(getattr(sampler, "sample_blocks", None)) or not hasattr(sampler, "num_nodes"):
            raise TypeError(f"{fn}: sampler must be a NeighborSampler (got {type(sampler).__name__})")
        n = sampler.num_nodes
        if features is not None:
            if not isinstance(features, FeatureStore):
                raise TypeError(
                    f"{fn}: features must be a sampling.FeatureStore or None (got {type(features).__name__})"
                )
            if features.num_rows != n:
                raise ValueError(
                    f"{fn}: the feature table must have one row per node of the graph ({n}) "
                    f"(got {features.num_rows} rows)"
                )
        if labels is not None:
            if not isinstance(labels, Tensor) or labels.dim() < 1:
                raise TypeError(f"{fn}: labels must be a tensor [num_nodes, ...] (got {type(labels).__name__})")
            if labels.shape[0] != n:
                raise ValueError(f"{fn}: labels must have one row per node of the graph ({n}) (got {labels.shape[0]})")
        for name, value, low in (
            ("batch_size", batch_size, 1),
            ("prefetch", prefetch, 0),
            ("num_workers", num_workers, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{fn}: {name} must be an int >= {low} (got {value!r})")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
        self.sampler = sampler
        self.features = features
        self.seeds = self._seed_ids(seeds, n, fn)
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if generator is None:
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
        self.generator = generator
        self.prefetch = prefetch
        self.num_workers = num_workers
        if device is None:
            device = features.device if features is not None else sampler.device
        self.device = torch.device(device)
        self._streams = threading.local()  # one side stream per preparing thread
        self._epochs: "weakref.WeakSet[_Epoch]" = weakref.WeakSet()

    @staticmethod
    def _seed_ids(seeds: Any, n: int, fn: str) -> Tensor:
        if not isinstance(seeds, Tensor) or seeds.dim() != 1:
            raise TypeError(f"{fn}: seeds must be a 1-D tensor of node ids or a bool mask (got {type(seeds).__name__})")
        if seeds.dtype == torch.bool:
            if seeds.numel() != n:
                raise ValueError(f"{fn}: a seed mask must have one entry per node ({n}) (got {seeds.numel()})")
            return seeds.cpu().nonzero().squeeze(1)
        if seeds.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"{fn}: seeds must be int64/int32 ids or a bool mask (got {seeds.dtype})")
        seeds = seeds.cpu().long()
        if seeds.numel() and (int(seeds.min()) < 0 or int(seeds.max()) >= n):
            raise ValueError(f"{fn}: seeds must lie in [0, {n}) (got min {int(seeds.min())}, max {int(seeds.max())})")
        return seeds

    def __len__(self) -> int:
        full, rest = divmod(self.seeds.numel(), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def plan(self) -> list[tuple[int, Tensor, int]]:
        """Draw the next epoch's ``(batch index, seed ids, sampling seed)`` list from :attr:`generator`."""
        order = (
            torch.randperm(self.seeds.numel(), generator=self.generator)
            if self.shuffle
            else torch.arange(self.seeds.numel())
        )
        batches = list(self.seeds.index_select(0, order).split(self.batch_size))[: len(self)]
        sample_seeds = torch.randint(2**63 - 1, (len(batches),), generator=self.generator).tolist()
        return [(i, b, s) for i, (b, s) in enumerate(zip(batches, sample_seeds))]

    def __iter__(self) -> Iterator[MiniBatch]:
        epoch = _Epoch(self, self.plan())
        self._epochs.add(epoch)
        return epoch

    # --- one batch ---------------------------------------------------------------------------
    def _side_stream(self) -> Any:
        stream = getattr(self._streams, "stream", None)
        if stream is None:
            stream = self._streams.stream = torch.cuda.Stream(device=self.device)
        return stream

    def _prepare(self, item: tuple[int, Tensor, int]) -> _Pending:
        index, seeds, seed = item
        if self.device.type != "cuda":
            return self._prepare_on(index, seeds, seed, None)
        stream = self._side_stream()  # no wait on the consumer's stream: nothing of the batch comes from it
        with torch.cuda.stream(stream):
            return self._prepare_on(index, seeds, seed, stream)

    def _prepare_on(self, index: int, seeds: Tensor, seed: int, stream: Any) -> _Pending:
        gen = torch.Generator(device=self.sampler.device).manual_seed(seed)
        blocks = self.sampler.sample_blocks(seeds, gen)
        handle = None if self.features is None else self.features.gather_async(blocks[0].src_nodes)
        blocks = tuple(b.to(self.device) for b in blocks)
        y = None if self.labels is None else self.labels.index_select(0, seeds.to(self.labels.device)).to(self.device)
        event = None
        if stream is not None:
            event = torch.cuda.Event()
            event.record(stream)
        return _Pending(index, blocks[-1].dst_nodes, blocks, handle, y, event)

    def _finish(self, p: _Pending) -> MiniBatch:
        if p.event is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(p.event)
            for t in _tensors(p):
                t.record_stream(current)
        x = None if p.features is None else p.features.wait()
        return MiniBatch(p.index, p.seeds, p.blocks, x, p.y)

    # --- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every running epoch's worker (the feature store stays open)."""
        for epoch in list(self._epochs):
            epoch.close()

    def __enter__(self) -> "Loader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Loader(num_seeds={self.seeds.numel()}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, prefetch={self.prefetch}, num_workers={self.num_workers}, "
            f"device={self.device})"
        )


def _tensors(p: _Pending) -> list[Tensor]:
    out = [p.seeds] + ([p.y] if p.y is not None else [])
    for b in p.blocks:
        out += [b.src_nodes, b.graph.indptr, b.graph.indices]
        if b.edge_ids is not None:
            out.append(b.edge_ids)
    return out
