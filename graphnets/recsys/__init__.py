"""Graph recommenders: LightGCN and UltraGCN with datasets, full-ranking evaluation and trainers.

>>> from graphnets.recsys import load_dataset, build_trainer, get_preset
>>> data = load_dataset("synthetic", synthetic={"num_users": 60, "num_items": 40}, seed=0)
>>> trainer = build_trainer("ultragcn", data, get_preset("ultragcn", "amazon-electronics"), device="cpu", seed=0)
>>> sorted(trainer.train_epoch())
['loss', 'samples_per_s', 'seconds']
>>> 0.0 <= trainer.evaluate()["ndcg@20"] <= 1.0
True

With real data: ``load_dataset("amazon-electronics", "../shared/data")`` (see :func:`load_dataset`).
"""

from graphnets.recsys.constraints import beta_vectors, item_item_topk
from graphnets.recsys.data import InteractionData
from graphnets.recsys.datasets import load_dataset
from graphnets.recsys.download import DOWNLOADS, download_dataset
from graphnets.recsys.evaluate import full_ranking_metrics, mask_train_items, popularity_embeddings, top_k_items
from graphnets.recsys.lightgcn import LightGCN
from graphnets.recsys.losses import (
    bpr_loss,
    l2_batch_reg,
    l2_table_reg,
    ultragcn_constraint_loss,
    ultragcn_item_item_loss,
)
from graphnets.recsys.metrics import ranking_metrics_per_user
from graphnets.recsys.presets import PAPER, LightGCNConfig, UltraGCNConfig, config_from_dict, get_preset, has_preset
from graphnets.recsys.recbole import load_recbole, read_inter
from graphnets.recsys.recommender import PairBatch, Recommender
from graphnets.recsys.report import (
    RANKING_KEYS,
    dataset_record,
    evaluation_row,
    format_metrics,
    paper_comparison,
    resolve_config,
    training_summary,
)
from graphnets.recsys.synthetic import make_synthetic
from graphnets.recsys.text_format import load_lightgcn_split, read_user_item_lines, write_user_item_lines
from graphnets.recsys.trainer import LightGCNTrainer, RecommenderTrainer, UltraGCNTrainer, build_trainer
from graphnets.recsys.ultragcn import UltraGCN

__all__ = [
    "DOWNLOADS",
    "InteractionData",
    "LightGCN",
    "LightGCNConfig",
    "LightGCNTrainer",
    "PAPER",
    "PairBatch",
    "RANKING_KEYS",
    "Recommender",
    "RecommenderTrainer",
    "UltraGCN",
    "UltraGCNConfig",
    "UltraGCNTrainer",
    "beta_vectors",
    "bpr_loss",
    "build_trainer",
    "config_from_dict",
    "dataset_record",
    "download_dataset",
    "evaluation_row",
    "format_metrics",
    "full_ranking_metrics",
    "get_preset",
    "has_preset",
    "item_item_topk",
    "l2_batch_reg",
    "l2_table_reg",
    "load_dataset",
    "load_lightgcn_split",
    "load_recbole",
    "make_synthetic",
    "mask_train_items",
    "paper_comparison",
    "popularity_embeddings",
    "ranking_metrics_per_user",
    "read_inter",
    "read_user_item_lines",
    "resolve_config",
    "top_k_items",
    "training_summary",
    "ultragcn_constraint_loss",
    "ultragcn_item_item_loss",
    "write_user_item_lines",
]
