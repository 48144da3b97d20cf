"""Training loops of LightGCN and UltraGCN as the official codes run them, behind one interface.

>>> from graphnets.recsys import get_preset, load_dataset
>>> data = load_dataset("synthetic", synthetic={"num_users": 60, "num_items": 40}, seed=0)
>>> trainer = build_trainer("lightgcn", data, get_preset("lightgcn", "gowalla"), device="cpu", seed=2020)
>>> stats = trainer.train_epoch()       # {"loss": .., "seconds": .., "samples_per_s": ..}
>>> metrics = trainer.evaluate()        # {"recall@20": .., "ndcg@20": .., ...,"seconds": ..}
>>> stats["loss"] > 0, 0.0 <= metrics["recall@20"] <= 1.0
(True, True)

A trainer owns the model, the Adam optimizer and one ``torch.Generator`` (initialisation and
all sampling), so :meth:`state_dict` / :meth:`load_state_dict` resume a run exactly. It also
keeps the evaluation schedule and early-stopping state of the official codes:

* LightGCN-PyTorch evaluates before training and then every 10 epochs, 1000 epochs, no stop.
* UltraGCN evaluates after epoch ``e`` (0-based) when ``e % 5 == 0`` or ``e >= 50`` and stops
  after ``early_stop`` evaluations without a better Recall@20.

``epoch`` counts *completed* training epochs (UltraGCN's log line "epoch 334" is our 335).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor

from graphnets.recsys.constraints import beta_vectors, item_item_topk
from graphnets.recsys.data import InteractionData
from graphnets.recsys.evaluate import full_ranking_metrics
from graphnets.recsys.lightgcn import LightGCN
from graphnets.recsys.presets import LightGCNConfig, UltraGCNConfig
from graphnets.recsys.recommender import PairBatch, Recommender
from graphnets.recsys.ultragcn import UltraGCN
from sampling.bpr import sample_bpr_triples
from sampling.finite import check_loss
from sampling.negatives import PositiveSets, sample_negatives

__all__ = ["RecommenderTrainer", "LightGCNTrainer", "UltraGCNTrainer", "build_trainer"]

Progress = Optional[Callable[[int], Any]]


class RecommenderTrainer:
    """Shared machinery; subclasses build the model (a :class:`~graphnets.recsys.Recommender`) and
    implement :meth:`train_epoch`. Evaluation scores the model's ``forward()`` embeddings."""

    config: Union[LightGCNConfig, UltraGCNConfig]

    def __init__(
        self, data: InteractionData, config, *, device: Union[str, torch.device] = "cpu", seed: int = 2020
    ) -> None:
        if not isinstance(data, InteractionData):
            raise TypeError(f"{type(self).__name__}: data must be an InteractionData (got {type(data).__name__})")
        self.data, self.config, self.seed = data, config, seed
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)  # sampling runs on the CPU
        self.positives = PositiveSets(*data.train_csr(), data.num_items)
        self.epoch = 0
        self._losses: list[Tensor] = []  # this epoch's batch losses, on the device (checked at its end)
        self.history: list[dict[str, Any]] = []
        self.best: Optional[dict[str, Any]] = None
        self.bad_evals = 0
        t0 = time.perf_counter()
        self.model = self._build_model()
        self.setup_seconds = time.perf_counter() - t0
        # fused Adam: same update, one kernel over all parameters; 9x faster than the default
        # per-tensor loop on a 70k x 64 table on CPU (23 ms vs 210 ms per step measured here)
        fused = self.device.type in ("cpu", "cuda")
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=fused)

    # --- to implement -------------------------------------------------------------------------
    def _build_model(self) -> Recommender:
        raise NotImplementedError

    def train_epoch(self, progress: Progress = None) -> dict[str, float]:
        raise NotImplementedError

    # --- shared by the training loops -----------------------------------------------------------
    def _step(self, loss: Tensor, progress: Progress) -> Tensor:
        """One Adam step on ``loss``; returns the detached loss for the epoch total."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if progress is not None:
            progress(1)
        self._losses.append(loss.detach())
        return loss.detach()

    def _finish_epoch(self, t0: float, total: Tensor, samples: int) -> dict[str, float]:
        """Count the epoch and return its mean batch loss, seconds and throughput.

        Raises :class:`~sampling.finite.NonFiniteError` naming the epoch and the first batch whose loss
        was NaN/inf. The losses stay on the device during the epoch (no per-batch host sync), so the
        check runs here: the parameters have been updated past that batch, and :attr:`epoch` is not
        advanced (resume from the previous checkpoint).
        """
        losses, self._losses = self._losses, []
        value = float(total)
        if not torch.isfinite(torch.tensor(value)):
            stacked = torch.stack(losses)
            bad = (~torch.isfinite(stacked)).nonzero()
            first = int(bad[0, 0]) if bad.numel() else None  # None: finite batches whose sum overflowed
            check_loss(
                stacked[first] if first is not None else value,
                f"{type(self).__name__}.train_epoch",
                epoch=self.epoch + 1,
                batch=first,
            )
        self.epoch += 1
        seconds = time.perf_counter() - t0
        return {"loss": value / self.num_batches(), "seconds": seconds, "samples_per_s": samples / seconds}

    def num_batches(self) -> int:
        return -(-self.data.num_train // self.config.batch_size)

    # --- evaluation and schedule --------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Full ranking of every test user (train items masked); adds ``"seconds"``."""
        t0 = time.perf_counter()
        self.model.eval()
        users, items = self.model()
        out = full_ranking_metrics(users, items, self.data, self.config.topk, chunk_size=self.config.eval_chunk)
        self.model.train()
        out["seconds"] = time.perf_counter() - t0
        return out

    def eval_due(self) -> bool:
        """Whether the schedule evaluates now (after ``self.epoch`` completed epochs)."""
        every = self.config.eval_every
        return every is not None and every > 0 and self.epoch % every == 0

    def record(self, metrics: dict[str, float]) -> bool:
        """Log an evaluation at the current epoch; update best / early stopping. Returns ``improved``."""
        key = f"recall@{self.config.topk[0]}"
        entry = {"epoch": self.epoch, **metrics}
        self.history.append(entry)
        improved = self.best is None or metrics[key] > self.best[key]
        if improved:
            self.best = dict(entry)
            self.bad_evals = 0
        else:
            self.bad_evals += 1
        return improved

    @property
    def should_stop(self) -> bool:
        """Early stopping: ``early_stop`` evaluations in a row without a better Recall@k."""
        patience = self.config.early_stop
        return patience is not None and patience > 0 and self.bad_evals >= patience

    # --- checkpointing ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
            "history": self.history,
            "best": self.best,
            "bad_evals": self.bad_evals,
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("config", {}).get("model") != self.config.model:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: checkpoint is for model "
                f"{state.get('config', {}).get('model')!r} (got trainer for {self.config.model!r})"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.epoch, self.history, self.best = state["epoch"], state["history"], state["best"]
        self.bad_evals = state["bad_evals"]


class LightGCNTrainer(RecommenderTrainer):
    """LightGCN-PyTorch's ``BPR_train_original``: per epoch ``num_train`` user-uniform BPR
    triples, minibatches of ``batch_size``, a full-graph propagation per minibatch, Adam."""

    config: LightGCNConfig

    def _build_model(self) -> LightGCN:
        cfg = self.config
        model = LightGCN(
            self.data.num_users,
            self.data.num_items,
            cfg.embedding_dim,
            cfg.num_layers,
            decay=cfg.decay,
            init_std=cfg.init_std,
            generator=self.generator,
        ).to(self.device)
        model.set_graph(self.data.bipartite_graph())
        return model

    def train_epoch(self, progress: Progress = None) -> dict[str, float]:
        cfg, model = self.config, self.model
        t0 = time.perf_counter()
        users, pos, neg = sample_bpr_triples(
            self.positives, self.data.num_train, mode=cfg.sampling, generator=self.generator
        )
        users, pos, neg = users.to(self.device), pos.to(self.device), neg.to(self.device)
        total = torch.zeros((), device=self.device)
        n = users.numel()
        for start in range(0, n, cfg.batch_size):
            batch = PairBatch(
                users[start : start + cfg.batch_size],
                pos[start : start + cfg.batch_size],
                neg[start : start + cfg.batch_size],
            )
            total += self._step(model.loss(batch), progress)
        return self._finish_epoch(t0, total, n)


class UltraGCNTrainer(RecommenderTrainer):
    """UltraGCN's ``train``: every observed pair once per epoch in random order, ``negative_num``
    negatives each, the summed UltraGCN loss, Adam."""

    config: UltraGCNConfig

    def _build_model(self) -> UltraGCN:
        cfg = self.config
        model = UltraGCN(
            self.data.num_users,
            self.data.num_items,
            cfg.embedding_dim,
            w1=cfg.w1,
            w2=cfg.w2,
            w3=cfg.w3,
            w4=cfg.w4,
            negative_weight=cfg.negative_weight,
            gamma=cfg.gamma,
            lambda_=cfg.lambda_,
            init_std=cfg.init_std,
            generator=self.generator,
        ).to(self.device)
        beta_u, beta_i = beta_vectors(self.data.user_degree(), self.data.item_degree())
        nbrs, weights = item_item_topk(self.data, cfg.ii_neighbor_num)
        model.set_constraints(beta_u, beta_i, nbrs, weights)
        return model

    def eval_due(self) -> bool:
        if self.config.eval_every is not None:
            return self.epoch > 0 and super().eval_due()
        e0 = self.epoch - 1  # 0-based index of the epoch just trained
        return e0 >= 0 and (e0 % 5 == 0 or e0 >= 50)

    def train_epoch(self, progress: Progress = None) -> dict[str, float]:
        cfg = self.config
        t0 = time.perf_counter()
        perm = torch.randperm(self.data.num_train, generator=self.generator)
        users_all, items_all = self.data.train_users[perm], self.data.train_items[perm]
        total = torch.zeros((), device=self.device)
        n = users_all.numel()
        for start in range(0, n, cfg.batch_size):
            u, p = users_all[start : start + cfg.batch_size], items_all[start : start + cfg.batch_size]
            q = sample_negatives(
                self.positives, u, cfg.negative_num, exclude_positives=cfg.sift_pos, generator=self.generator
            )
            u, p, q = u.to(self.device), p.to(self.device), q.to(self.device)
            total += self._step(self.model.loss(PairBatch(u, p, q)), progress)
        return self._finish_epoch(t0, total, n)


def build_trainer(
    model: str, data: InteractionData, config=None, *, device: Union[str, torch.device] = "cpu", seed: int = 2020
) -> RecommenderTrainer:
    """``LightGCNTrainer`` or ``UltraGCNTrainer`` for ``model`` (``config`` defaults to the model's defaults)."""
    if model == "lightgcn":
        cls, default = LightGCNTrainer, LightGCNConfig
    elif model == "ultragcn":
        cls, default = UltraGCNTrainer, UltraGCNConfig
    else:
        raise ValueError(f"build_trainer: model must be 'lightgcn' or 'ultragcn' (got {model!r})")
    config = default() if config is None else config
    if not isinstance(config, default):
        raise TypeError(f"build_trainer: config for {model} must be a {default.__name__} (got {type(config).__name__})")
    return cls(data, config, device=device, seed=seed)
