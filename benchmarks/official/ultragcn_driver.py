"""Time data preparation, training and one full evaluation of the official UltraGCN.

Usage: python -m benchmarks.official.ultragcn_driver --code DIR --data DIR --config NAME.ini
       [--max-batches N] [--epochs N]

``--code`` holds the official ``main.py`` and ``*_config.ini``; ``--data`` the dataset's
``train.txt``/``test.txt``. The driver imports ``main`` and calls its own functions unchanged:
``data_param_prepare`` (loading, beta vectors, dense test mask, item-item constraint matrix),
``UltraGCN``, ``train`` and ``test``, with the official config. ``train`` runs ``--epochs``
epochs with its own evaluation schedule; ``--max-batches N`` limits each epoch to its first N
batches and extrapolates the epoch time (reported as such). The constraint-matrix cache that
the official code pickles into its working directory is deleted first, so preparation is
measured from scratch (pass ``--keep-cache`` to reuse it).
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import io
import os
import sys
import time
from pathlib import Path

from benchmarks.official.common import Truncated, emit, link_data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--config", required=True, help="official config file name, e.g. gowalla_config.ini")
    p.add_argument("--max-batches", type=int, default=0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--keep-cache", action="store_true")
    args = p.parse_args()

    code_dir = args.code.resolve()
    cfg = configparser.ConfigParser()
    cfg.read(code_dir / args.config)
    dataset = cfg["Training"]["dataset"]
    link_data(args.data, code_dir / "data" / dataset, ["train.txt", "test.txt"])
    os.chdir(code_dir)
    sys.path.insert(0, str(code_dir))
    if not args.keep_cache:
        for suffix in ("_ii_constraint_mat", "_ii_neighbor_mat"):
            Path(f"./{dataset}{suffix}").unlink(missing_ok=True)
    import main as official  # noqa: E402  (guarded by __name__ == "__main__")
    import torch

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        (
            params,
            constraint_mat,
            ii_constraint_mat,
            ii_neighbor_mat,
            train_loader,
            test_loader,
            mask,
            test_ground_truth_list,
            interacted_items,
        ) = official.data_param_prepare(args.config)
    prepare_s = time.perf_counter() - t0
    params["max_epoch"] = args.epochs
    model = official.UltraGCN(params, constraint_mat, ii_constraint_mat, ii_neighbor_mat).to(params["device"])
    optimizer = torch.optim.Adam(model.parameters(), lr=params["lr"])
    batches = -(-len(train_loader.dataset) // params["batch_size"])
    loader = Truncated(train_loader, args.max_batches)

    t0 = time.perf_counter()
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        official.train(model, optimizer, loader, test_loader, mask, test_ground_truth_list, interacted_items, params)
    train_and_tests_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    f1, precision, recall, ndcg = official.test(
        model, test_loader, test_ground_truth_list, mask, params["topk"], params["user_num"]
    )
    eval_s = time.perf_counter() - t0
    # train() evaluates at epoch 0 and every 5th epoch below 50; subtract those evaluations.
    n_tests = sum(1 for e in range(args.epochs) if not (e < 50 and e % 5 != 0))
    ran = batches if args.max_batches <= 0 else min(args.max_batches, batches)
    epoch_s = (train_and_tests_s - n_tests * eval_s) / args.epochs * batches / ran
    emit(
        {
            "impl": "official-ultragcn",
            "dataset": dataset,
            "prepare_s": prepare_s,
            "batches_run": ran,
            "batches_per_epoch": batches,
            "epochs": args.epochs,
            "train_and_tests_s": train_and_tests_s,
            "epoch_s": epoch_s,
            "extrapolated": ran < batches,
            "eval_s": eval_s,
            "recall@20": float(recall),
            "ndcg@20": float(ndcg),
            "log_tail": log.getvalue()[-400:],
        }
    )


if __name__ == "__main__":
    main()
