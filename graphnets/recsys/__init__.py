"""Graph recommenders: LightGCN and UltraGCN with datasets, samplers, full-ranking evaluation, trainers."""
from graphnets.recsys.constraints import beta_vectors, item_item_topk
from graphnets.recsys.data import InteractionData
from graphnets.recsys.evaluate import full_ranking_metrics, mask_train_items, popularity_embeddings
from graphnets.recsys.lightgcn import LightGCN
from graphnets.recsys.losses import bpr_loss, l2_batch_reg, l2_table_reg, ultragcn_constraint_loss, ultragcn_item_item_loss
from graphnets.recsys.metrics import ranking_metrics_per_user
from graphnets.recsys.presets import PAPER, LightGCNConfig, UltraGCNConfig, get_preset, has_preset
from graphnets.recsys.text_format import load_lightgcn_split, read_user_item_lines
from graphnets.recsys.trainer import LightGCNTrainer, RecommenderTrainer, UltraGCNTrainer, build_trainer
from graphnets.recsys.ultragcn import UltraGCN

__all__ = [
    "InteractionData", "LightGCN", "LightGCNConfig", "LightGCNTrainer", "PAPER", "RecommenderTrainer", "UltraGCN",
    "UltraGCNConfig", "UltraGCNTrainer", "beta_vectors", "bpr_loss", "build_trainer", "full_ranking_metrics",
    "get_preset", "has_preset", "item_item_topk", "l2_batch_reg", "l2_table_reg", "load_lightgcn_split",
    "mask_train_items", "popularity_embeddings", "ranking_metrics_per_user", "read_user_item_lines",
    "ultragcn_constraint_loss", "ultragcn_item_item_loss",
]
