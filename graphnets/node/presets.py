"""Per-dataset hyperparameters of the official code and the papers' reported accuracies.

DAGNN: DeeperGNN ``dagnn.py`` defaults (lr 0.01, hidden 64, 1000 epochs, early stopping 100,
row-normalised features) and ``run.sh`` (K, dropout, weight decay). SpikingGCN: the ``"snn"`` block
of ``handcode/models_conf.json`` plus ``model_lif_fc.py`` (Adam weight decay 0.01, lr forced to
1e-3 at epoch 50 and 1e-4 at epoch 80, batch 64, soft reset). ``sbm`` presets are ours: small,
fast settings for the synthetic default (not from any paper).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["DAGNNConfig", "SpikingGCNConfig", "dagnn_preset", "spikinggcn_preset", "PAPER_ACCURACY"]


@dataclass(frozen=True)
class DAGNNConfig:
    K: int = 10
    dropout: float = 0.5
    weight_decay: float = 5e-3
    lr: float = 0.01
    hidden: int = 64
    epochs: int = 1000
    early_stopping: int = 100  # PyG-benchmark rule, active once epoch > epochs // 2; 0 disables
    normalize_features: bool = True
    adaptive: bool = True  # False: ablation using only H_K


@dataclass(frozen=True)
class SpikingGCNConfig:
    T: int = 200
    tau: float = 80.0
    v_threshold: float = 0.2
    lr: float = 2e-3
    epochs: int = 200
    batch_size: int = 64
    weight_decay: float = 0.01
    lr_drops: tuple[tuple[int, float], ...] = ((50, 1e-3), (80, 1e-4))  # (epoch, new lr), official
    hops: int = 2  # A^K X, official K = 2
    feature_offset: float = 0.0  # official adds 0.05 to A^2 X for citeseer and pubmed
    surrogate_alpha: float = 1.0  # spikingjelly 0.0.0.0.4 Sigmoid surrogate of the official code
    dropout: float = 0.0  # on the synaptic current before the LIF (model_lif_fc_with_val: 0.6)
    fixed_val_encoding: bool = True  # draw validation spikes once per run (ours; official: every epoch)
    eval_batch_size: int = 500  # official 64; larger is equivalent (independent nodes) and faster


_DAGNN = {
    "cora": DAGNNConfig(K=10, dropout=0.8, weight_decay=5e-3),
    "citeseer": DAGNNConfig(K=10, dropout=0.5, weight_decay=2e-2),
    "pubmed": DAGNNConfig(K=20, dropout=0.8, weight_decay=5e-3),
    "sbm": DAGNNConfig(K=10, dropout=0.5, weight_decay=5e-3, epochs=200, early_stopping=50),
}

_SGCN = {
    # Cora follows the official notebook (handcode/SpikingGCN.ipynb), whose output cell is the 0.808
    # run: +0.05 on A^2 X (its 17,683 input spikes per node = 3,355 + 0.05 * 1433 features * 200 steps),
    # model_lif_fc_with_val.py: Dropout(0.6) before the LIF, Adam without weight decay, StepLR(50, 0.1)
    # plus lr set to 1e-3 at epoch 60 and 1e-4 at epoch 100 -> the lr sequence below.
    # (run_snn.py + model_lif_fc.py -- no offset, weight decay 0.01 -- gives 0.70-0.77 in the authors'
    # log; with weight decay the tiny surrogate gradients lose to the decay term.)
    "cora": SpikingGCNConfig(
        T=200,
        tau=80.0,
        v_threshold=0.2,
        lr=2e-3,
        epochs=200,
        feature_offset=0.05,
        weight_decay=0.0,
        dropout=0.6,
        lr_drops=((50, 2e-4), (60, 1e-3), (100, 1e-4), (150, 1e-5)),
    ),
    "citeseer": SpikingGCNConfig(T=400, tau=30.0, v_threshold=0.6, lr=1e-2, epochs=80, feature_offset=0.05),
    "pubmed": SpikingGCNConfig(T=400, tau=32.0, v_threshold=0.1, lr=2e-2, epochs=120, feature_offset=0.05),
    "sbm": SpikingGCNConfig(T=40, tau=20.0, v_threshold=0.2, lr=2e-2, epochs=30, lr_drops=((20, 2e-3),)),
}

# Paper numbers (accuracy %, mean +- std). DAGNN: Tables 2/3 of the KDD paper (100 runs).
# SpikingGCN: best single Cora run of the official configuration in the authors' search log (0.808).
PAPER_ACCURACY = {
    ("dagnn", "cora", "public"): (84.4, 0.5),
    ("dagnn", "cora", "random"): (83.7, 1.4),
    ("dagnn", "citeseer", "public"): (73.3, 0.6),
    ("dagnn", "citeseer", "random"): (71.2, 1.4),
    ("dagnn", "pubmed", "public"): (80.5, 0.5),
    ("dagnn", "pubmed", "random"): (80.1, 1.7),
    ("spikinggcn", "cora", "public"): (80.8, None),
}


def _lookup(table: dict, model: str, name: str):
    key = name.lower()
    if key not in table:
        raise ValueError(f"{model}_preset: no preset for dataset {name!r} (valid: {sorted(table)})")
    return table[key]


def dagnn_preset(name: str, **overrides) -> DAGNNConfig:
    """Official DAGNN hyperparameters for ``name`` with optional field overrides."""
    return replace(_lookup(_DAGNN, "dagnn", name), **overrides)


def spikinggcn_preset(name: str, **overrides) -> SpikingGCNConfig:
    """Official SpikingGCN settings for ``name`` with optional field overrides."""
    return replace(_lookup(_SGCN, "spikinggcn", name), **overrides)
