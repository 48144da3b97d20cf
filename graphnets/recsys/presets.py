"""Typed configs and per-dataset presets of the official LightGCN and UltraGCN runs.

LightGCN: official PyTorch defaults (``code/parse.py``) with the README command: dim 64,
3 layers, lr 1e-3, L2 decay 1e-4, batch 2048 (8192 on Amazon-Book, the official TF command),
N(0, 0.1) init, evaluated every 10 epochs, no early stopping (the PyTorch code runs a fixed
1000 epochs).

UltraGCN: the official ``*_config.ini`` files (identical in xue-pai/UltraGCN and reczoo), with
the official test schedule (every 5 epochs below epoch 50, then every epoch) and early
stopping after ``early_stop`` evaluations without a better Recall@20.

``PAPER`` holds the published Recall@20 / NDCG@20 that a run prints its numbers beside.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional, Union

__all__ = ["LightGCNConfig", "UltraGCNConfig", "get_preset", "has_preset", "PAPER", "MODELS", "config_from_dict"]

MODELS = ("lightgcn", "ultragcn")


@dataclass(frozen=True)
class LightGCNConfig:
    embedding_dim: int = 64
    num_layers: int = 3
    lr: float = 1e-3
    decay: float = 1e-4  # L2 on the batch's layer-0 rows
    batch_size: int = 2048
    init_std: float = 0.1
    sampling: str = "user"  # "user" (official) or "edge"
    epochs: int = 1000
    eval_every: Optional[int] = 10  # evaluate before training and after every N epochs
    early_stop: Optional[int] = None  # evaluations without a better recall@20; None = never stop
    eval_chunk: Optional[int] = None
    topk: tuple = (20,)
    model: str = field(default="lightgcn", init=False)


@dataclass(frozen=True)
class UltraGCNConfig:
    embedding_dim: int = 64
    lr: float = 1e-3
    batch_size: int = 1024
    init_std: float = 1e-4
    w1: float = 1e-7
    w2: float = 1.0
    w3: float = 1e-7
    w4: float = 1.0
    negative_num: int = 200
    negative_weight: float = 200.0
    gamma: float = 1e-4
    lambda_: float = 1e-3
    ii_neighbor_num: int = 10
    sift_pos: bool = False  # exclude positives from the negatives
    epochs: int = 2000
    eval_every: Optional[int] = None  # None: official schedule (every 5 below epoch 50, then each)
    early_stop: Optional[int] = 50
    eval_chunk: Optional[int] = None
    topk: tuple = (20,)
    model: str = field(default="ultragcn", init=False)


Config = Union[LightGCNConfig, UltraGCNConfig]

_LIGHTGCN = {
    "gowalla": {},
    "yelp2018": {},
    "amazon-book": {"batch_size": 8192},
    # not an official preset: sized for a quick start that learns in well under a minute
    "synthetic": {"epochs": 4, "eval_every": 2, "batch_size": 1024, "lr": 5e-3},
}

_ULTRAGCN = {
    "gowalla": dict(
        embedding_dim=64,
        lr=1e-4,
        batch_size=512,
        init_std=1e-4,
        w1=1e-6,
        w2=1,
        w3=1e-6,
        w4=1,
        negative_num=1500,
        negative_weight=300,
        gamma=1e-4,
        lambda_=5e-4,
        sift_pos=False,
        early_stop=150,
    ),
    "yelp2018": dict(
        embedding_dim=64,
        lr=1e-3,
        batch_size=1024,
        init_std=1e-4,
        w1=1e-8,
        w2=1,
        w3=1e-8,
        w4=1,
        negative_num=800,
        negative_weight=300,
        gamma=1e-4,
        lambda_=5e-4,
        sift_pos=False,
        early_stop=15,
    ),
    "amazon-book": dict(
        embedding_dim=64,
        lr=1e-3,
        batch_size=1024,
        init_std=1e-4,
        w1=1e-8,
        w2=1,
        w3=1,
        w4=1e-8,
        negative_num=500,
        negative_weight=500,
        gamma=1e-4,
        lambda_=2.75,
        sift_pos=False,
        early_stop=15,
    ),
    "ml-1m": dict(
        embedding_dim=128,
        lr=1e-3,
        batch_size=1024,
        init_std=1e-3,
        w1=1e-7,
        w2=1,
        w3=1e-7,
        w4=1,
        negative_num=200,
        negative_weight=200,
        gamma=1e-4,
        lambda_=1e-3,
        sift_pos=False,
        early_stop=50,
    ),
    "amazon-cds": dict(
        embedding_dim=64,
        lr=1e-3,
        batch_size=1024,
        init_std=1e-4,
        w1=1e-7,
        w2=1,
        w3=1e-7,
        w4=1,
        negative_num=1000,
        negative_weight=1000,
        gamma=1e-4,
        lambda_=1.0,
        sift_pos=False,
        early_stop=15,
    ),
    "amazon-electronics": dict(
        embedding_dim=64,
        lr=1e-3,
        batch_size=2048,
        init_std=1e-3,
        w1=1e-7,
        w2=1,
        w3=1e-7,
        w4=1,
        negative_num=75,
        negative_weight=75,
        gamma=5e-5,
        lambda_=1e-7,
        sift_pos=True,
        early_stop=250,
    ),
    # not an official preset: tuned so the quick start learns in a few epochs
    "synthetic": dict(
        embedding_dim=64,
        lr=3e-2,
        batch_size=1024,
        init_std=0.1,
        negative_num=50,
        negative_weight=10,
        gamma=1e-5,
        lambda_=1e-3,
        epochs=10,
        eval_every=2,
        early_stop=None,
    ),
}

# Published Recall@20 / NDCG@20 (LightGCN paper Table 3; UltraGCN paper / RecZoo README).
PAPER: dict[str, dict[str, dict[str, float]]] = {
    "lightgcn": {
        "gowalla": {"recall@20": 0.1830, "ndcg@20": 0.1554},
        "yelp2018": {"recall@20": 0.0649, "ndcg@20": 0.0530},
        "amazon-book": {"recall@20": 0.0411, "ndcg@20": 0.0315},
    },
    "ultragcn": {
        "gowalla": {"recall@20": 0.1862, "ndcg@20": 0.1580},
        "yelp2018": {"recall@20": 0.0683, "ndcg@20": 0.0561},
        "amazon-book": {"recall@20": 0.0681, "ndcg@20": 0.0556},
        "ml-1m": {"recall@20": 0.2787, "ndcg@20": 0.2642},
        "amazon-cds": {"recall@20": 0.1622, "ndcg@20": 0.1043},
        "amazon-electronics": {"ndcg@20": 0.0829, "f1@20": 0.0330},
    },
}

_TABLES = {"lightgcn": (_LIGHTGCN, LightGCNConfig), "ultragcn": (_ULTRAGCN, UltraGCNConfig)}


def _check_model(fn: str, model: str) -> None:
    if model not in _TABLES:
        raise ValueError(f"{fn}: model must be one of {list(MODELS)} (got {model!r})")


def has_preset(model: str, dataset: str) -> bool:
    """Whether ``get_preset(model, dataset)`` exists."""
    _check_model("has_preset", model)
    return dataset in _TABLES[model][0]


def get_preset(model: str, dataset: Optional[str] = None, **overrides: Any) -> Config:
    """The config of ``model`` for ``dataset`` (``None``: the model's defaults), then ``overrides``.

    Raises:
        ValueError: unknown model, dataset without a preset, or an unknown override name.
    """
    fn = "get_preset"
    _check_model(fn, model)
    table, cls = _TABLES[model]
    values: dict[str, Any] = {}
    if dataset is not None:
        if dataset not in table:
            raise ValueError(f"{fn}: no {model} preset for dataset {dataset!r} (valid: {sorted(table)})")
        values.update(table[dataset])
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"{fn}: unknown {model} option(s) {unknown} (valid: {sorted(names)})")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)


def config_from_dict(values: dict[str, Any]) -> Config:
    """Rebuild a config from ``dataclasses.asdict`` output (as saved in ``config.json``)."""
    values = dict(values)
    model = values.pop("model", None)
    _check_model("config_from_dict", model)
    if "topk" in values:
        values["topk"] = tuple(values["topk"])
    return _TABLES[model][1](**values)
