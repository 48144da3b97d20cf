"""benchmarks/time_to_best.py: the official UltraGCN log is parsed into its best evaluation."""

import pytest

from benchmarks.time_to_best import parse_official_log

LOG = [
    (0.1, "###################### UltraGCN ######################"),
    (3.0, "The time for epoch 0 is: train time = 00: 00: 02, test time = 00: 00: 00"),
    (3.1, "Loss = 3032.48779, F1-score: 0.004601 \t Precision: 0.00265\t Recall: 0.01754\tNDCG: 0.00823"),
    (9.0, "The time for epoch 5 is: train time = 00: 00: 02, test time = 00: 00: 00"),
    (9.1, "Loss = 20.1, F1-score: 0.03 \t Precision: 0.018\t Recall: 0.13\tNDCG: 0.0801"),
    (12.0, "The time for epoch 6 is: train time = 00: 00: 02, test time = 00: 00: 00"),
    (12.1, "Loss = 19.9, F1-score: 0.03 \t Precision: 0.018\t Recall: 0.14\tNDCG: 0.0799"),
    (15.0, "Training end!"),
]


def test_best_ndcg_and_its_arrival_time():
    out = parse_official_log(LOG)
    assert out["best"] == {"epoch": 5, "recall@20": 0.13, "ndcg@20": 0.0801, "seconds": 9.1}
    assert out["evaluations"] == 3 and out["seconds"] == 15.0


def test_a_log_without_evaluations_is_an_error():
    with pytest.raises(RuntimeError, match="no evaluation line"):
        parse_official_log(LOG[:1])
