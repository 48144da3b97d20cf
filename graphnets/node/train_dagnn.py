"""Official DAGNN training protocol (DeeperGNN ``train_eval.py``), one run per call.

Full-batch Adam(lr, weight_decay) on the NLL of the training nodes; after every epoch the model
is evaluated in eval mode; the reported test accuracy is the one at the epoch of the lowest
validation loss (strictly lower replaces). Early stopping (PyG benchmark rule): once
``epoch > epochs // 2``, stop when the validation loss exceeds the mean of the previous
``early_stopping`` validation losses.

Differences from the official loop: randomness (initialisation, dropout) comes from the given
``torch.Generator``; features are row-normalised once and, when sparse enough, kept as a sparse
CSR (same model, faster on CPU); per-epoch metrics go to an optional callback instead of stdout.
"""

from __future__ import annotations

import time
import warnings
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from graphnets.node.dagnn import DAGNN
from graphnets.node.dataset import NodeDataset, check_split, row_normalize
from graphnets.node.presets import DAGNNConfig
from graphnets.node.results import RunResult
from sampling import Split
from sampling.finite import check_finite, check_loss

__all__ = ["prepare_features", "train_dagnn"]


def prepare_features(x: Tensor, normalize: bool, sparse_below: float = 0.1) -> Tensor:
    """Row-normalise (optional) and return a sparse CSR tensor when the density is below ``sparse_below``."""
    x = row_normalize(x) if normalize else x
    density = float((x != 0).sum()) / max(x.numel(), 1)
    if density >= sparse_below:
        return x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return x.to_sparse_csr()


@torch.no_grad()
def _evaluate(model: DAGNN, x: Tensor, data: NodeDataset, split: Split, epoch: int) -> dict[str, float]:
    model.eval()
    logp = check_finite(
        model(x, data.graph), f"train_dagnn (evaluation after epoch {epoch})", "log-probabilities", ("node", "class")
    )  # argmax would pick a NaN class and report a plausible accuracy
    out = {}
    for name in ("train", "val", "test"):
        idx = getattr(split, name)
        out[f"{name}_loss"] = float(F.nll_loss(logp[idx], data.y[idx]))
        out[f"{name}_acc"] = int((logp[idx].argmax(-1) == data.y[idx]).sum()) / idx.numel()
    return out


def train_dagnn(
    data: NodeDataset,
    split: Split,
    config: DAGNNConfig,
    generator: torch.Generator,
    *,
    on_epoch: Optional[Callable[[dict[str, float]], None]] = None,
) -> RunResult:
    """Train a fresh DAGNN on ``data`` with ``split`` and return the run's result.

    Args:
        data: dataset on the compute device (``data.to(device)``).
        split: node ids for train/val/test (e.g. ``data.split`` or a random split).
        config: hyperparameters (see :func:`graphnets.node.presets.dagnn_preset`).
        generator: generator on ``data``'s device for initialisation and dropout.
        on_epoch: called with each epoch's metrics dict.
    """
    fn = "train_dagnn"
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    check_split(split, data.num_nodes, fn, data.y, data.num_classes)
    x = prepare_features(data.x, config.normalize_features)
    model = DAGNN(
        data.num_features, config.hidden, data.num_classes, config.K, config.dropout, adaptive=config.adaptive
    ).to(data.x.device)
    model.reset_parameters(generator)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    best = {"val_loss": float("inf"), "val_acc": 0.0, "test_acc": 0.0, "epoch": 0}
    history: list[dict[str, float]] = []
    val_losses: list[float] = []
    best_state: dict = {}
    start = time.perf_counter()
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        opt.zero_grad()
        logp = model(x, data.graph, generator)
        loss = F.nll_loss(logp[split.train], data.y[split.train])
        value = check_loss(loss, fn, epoch=epoch)  # full batch: before the update
        loss.backward()
        opt.step()
        info = _evaluate(model, x, data, split, epoch)
        info["epoch"] = epoch
        info["loss"] = value
        history.append(info)
        if on_epoch is not None:
            on_epoch(info)
        if info["val_loss"] < best["val_loss"]:
            best = {
                "val_loss": info["val_loss"],
                "val_acc": info["val_acc"],
                "test_acc": info["test_acc"],
                "epoch": epoch,
            }
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        val_losses.append(info["val_loss"])
        if config.early_stopping > 0 and epoch > config.epochs // 2:
            previous = val_losses[-(config.early_stopping + 1) : -1]
            if info["val_loss"] > sum(previous) / len(previous):
                break
    seconds = time.perf_counter() - start
    return RunResult(
        test_acc=best["test_acc"],
        val_acc=best["val_acc"],
        val_loss=best["val_loss"],
        best_epoch=best["epoch"],
        epochs_run=epoch,
        seconds=seconds,
        history=history,
        state=best_state,
    )
