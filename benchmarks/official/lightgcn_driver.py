"""Time one training epoch and one full evaluation of the official LightGCN-PyTorch.

Usage: python -m benchmarks.official.lightgcn_driver --code DIR --data DIR [--max-batches N]

``--code`` is a LightGCN-PyTorch checkout (holding ``code/``); ``--data`` a folder with the
dataset's ``train.txt``/``test.txt``/``user_list.txt``/``item_list.txt``. The official
functions ``Procedure.BPR_train_original`` and ``Procedure.Test`` run unchanged with the README
hyperparameters (3 layers, dim 64, lr 1e-3, decay 1e-4, batch 2048, testbatch 100, seed 2020).

One deviation, for the machine's sake: when the official adjacency cache
``s_pre_adj_mat.npz`` is missing, this driver writes the same matrix (D^-1/2 A D^-1/2, float32
CSR) with scipy instead of letting the official code build it through dok/lil, which takes
79 s and 15.3 GB peak on Gowalla here (shared/notes/anchors-cpu.md). With ``--max-batches N``
only the first N batches run and the epoch time is extrapolated (reported as such).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks.official.common import emit, link_data


def build_norm_adj(train_file: Path, out: Path) -> float:
    """Write the official normalised adjacency with scipy; returns seconds taken."""
    t0 = time.perf_counter()
    users, items = [], []
    for line in train_file.read_text().splitlines():
        ids = [int(v) for v in line.split()]
        if len(ids) > 1:
            users += [ids[0]] * (len(ids) - 1)
            items += ids[1:]
    n_users, n_items = max(users) + 1, max(items) + 1
    r = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items))
    a = sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)
    d = np.asarray(a.sum(axis=1)).ravel() ** -0.5
    d[np.isinf(d)] = 0.0
    dm = sp.diags(d.astype(np.float32))
    sp.save_npz(out, (dm @ a @ dm).tocsr())
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--dataset", default="gowalla")
    p.add_argument("--max-batches", type=int, default=0)
    p.add_argument("--skip-eval", action="store_true")
    args = p.parse_args()

    code_dir = (args.code / "code").resolve()
    data_dir = args.code.resolve() / "data" / args.dataset
    link_data(args.data, data_dir, ["train.txt", "test.txt", "user_list.txt", "item_list.txt"])
    adj_s = 0.0
    if not (data_dir / "s_pre_adj_mat.npz").exists():
        adj_s = build_norm_adj(args.data / "train.txt", data_dir / "s_pre_adj_mat.npz")
    sys.argv = [
        "main.py",
        "--decay=1e-4",
        "--lr=0.001",
        "--layer=3",
        "--seed=2020",
        f"--dataset={args.dataset}",
        "--topks=[20]",
        "--recdim=64",
        "--bpr_batch=2048",
        "--testbatch=100",
        "--tensorboard=0",
        "--epochs=1",
    ]
    os.chdir(code_dir)
    sys.path.insert(0, str(code_dir))
    t0 = time.perf_counter()
    import Procedure  # noqa: E402  (the official modules parse sys.argv at import)
    import register
    import utils
    import world

    utils.set_seed(world.seed)
    dataset = register.dataset
    model = register.MODELS["lgn"](world.config, dataset).to(world.device)
    loss = utils.BPRLoss(model, world.config)
    load_s = time.perf_counter() - t0

    total_batches = dataset.trainDataSize // world.config["bpr_batch_size"] + 1
    full_minibatch = utils.minibatch
    if args.max_batches > 0:

        def limited(*tensors, **kwargs):
            for i, batch in enumerate(full_minibatch(*tensors, **kwargs)):
                if i >= args.max_batches:
                    return
                yield batch

        utils.minibatch = limited
    t0 = time.perf_counter()
    info = Procedure.BPR_train_original(dataset, model, loss, 0, neg_k=1, w=None)
    train_s = time.perf_counter() - t0
    utils.minibatch = full_minibatch
    ran = total_batches if args.max_batches <= 0 else min(args.max_batches, total_batches)
    # The sampler runs once per epoch before the batches; only the batch part scales.
    match = re.search(r"Sample:([0-9.]+)", str(info))
    sample_s = float(match.group(1)) if match else 0.0
    result = {
        "impl": "official-lightgcn",
        "dataset": args.dataset,
        "load_s": load_s,
        "adjacency_prebuilt_s": adj_s,
        "batches_run": ran,
        "batches_per_epoch": total_batches,
        "train_s_measured": train_s,
        "sampler_s": sample_s,
        "cpp_sampler": bool(getattr(utils, "sample_ext", False)),
        "epoch_s": sample_s + (train_s - sample_s) * total_batches / ran,
        "extrapolated": ran < total_batches,
        "log": str(info),
    }
    if not args.skip_eval:
        t0 = time.perf_counter()
        metrics = Procedure.Test(dataset, model, 0, None, 0)
        result["eval_s"] = time.perf_counter() - t0
        result["recall@20"] = float(metrics["recall"][0])
    emit(result)


if __name__ == "__main__":
    main()
