"""Graph neural networks: recommenders (LightGCN, UltraGCN), DAGNN, SpikingGCN, CKGConv, S-GCN."""
