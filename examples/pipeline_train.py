"""Pipelined full-graph training of deep GNNs: GNNPipe on torch.distributed.pipelining.

The model's layers are split over the ranks of a pipeline (each rank computes its layers on the
whole graph); graph chunks are the micro-batches and every stage keeps historical embeddings of the
neighbours in chunks it has not seen yet (GNNPipe, arXiv 2308.10087). ``--unpipelined`` trains the
same model in one process without the pipeline (the baseline: same seed, same epochs).

    # default: a synthetic graph (no download), 2 ranks on this machine
    torchrun --standalone --nproc-per-node 2 examples/pipeline_train.py --out runs/pipe_sbm
    # 16-layer GCN on Cora, 4 pipeline ranks, 4 METIS chunks (pip install pymetis), 1F1B
    torchrun --standalone --nproc-per-node 4 examples/pipeline_train.py --model deep-gcn --layers 16 \\
        --data cora --root ../shared/data/planetoid --chunks 4 --partition metis --schedule 1f1b --out runs/pipe_cora
    # several machines: the same command on each (HOST: the first machine; --out on a shared file system)
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-id pipe_cora --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        examples/pipeline_train.py --data cora --root ../shared/data/planetoid --out /shared/runs/pipe_cora
    # one process, all stages on one GPU (or CPU): the single-process mode
    python examples/pipeline_train.py --stages 4 --device cuda --out runs/pipe_1gpu

Prints per epoch loss, accuracies and where the step time went (compute / communication / bubble,
averaged over ranks); writes config.json, metrics.csv/.json (``best.test_acc``, ``epoch_seconds``,
``bytes_sent_per_epoch`` and the halo-exchange bytes graph parallelism would move for the same
partition), TensorBoard events and a torch.distributed.checkpoint every ``--checkpoint-every``
epochs (``--resume`` continues from it). Only rank 0 writes files besides the checkpoint shards.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, example_parser, fail, nonnegative_int, positive_float, positive_int

from graphnets.node import PIPELINE_MODELS, build_pipeline_model, load_node_data, split_accuracies
from sampling.pipeline import (
    PARTITIONS,
    SCHEDULES,
    FailureGuard,
    GNNPipe,
    GNNPipeConfig,
    LocalPipe,
    PipelineConfig,
    choose_split,
    epoch_time_split,
    init_distributed,
    load_checkpoint,
    save_checkpoint,
    summarize_epochs,
    traffic_model,
)


def parse(argv=None):
    p = example_parser(__doc__, out="runs/pipeline_train")
    p.add_argument("--model", choices=PIPELINE_MODELS, default="deep-gcn")
    p.add_argument("--layers", type=positive_int, default=16, help="GCN blocks (deep-gcn) or hops K (dagnn)")
    p.add_argument("--hidden", type=positive_int, default=64)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=positive_float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--epochs", type=positive_int, default=200)
    p.add_argument("--data", choices=("synthetic", "cora", "citeseer", "pubmed"), default="synthetic")
    p.add_argument("--root", default=None, help="folder with the raw Planetoid files (ind.<name>.*)")
    p.add_argument("--chunks", type=positive_int, default=4, help="graph chunks = micro-batches per step")
    p.add_argument("--partition", choices=PARTITIONS, default="contiguous", help="chunks; metis needs pymetis")
    p.add_argument("--mode", choices=("historical", "exact"), default="historical")
    p.add_argument("--no-warmup", action="store_true", help="start from zero tables instead of an exact refresh")
    p.add_argument("--refresh-every", type=nonnegative_int, default=0, help="exact table refresh every k epochs")
    p.add_argument("--no-halo-grad", action="store_true", help="drop halo gradients instead of sending them late")
    p.add_argument("--schedule", choices=SCHEDULES, default="1f1b")
    p.add_argument("--stages", type=positive_int, default=None, help="stages in all (default: one per rank)")
    p.add_argument("--split", choices=("count", "cost"), default="count", help="layers per stage by count or cost")
    p.add_argument("--dp", type=positive_int, default=1, help="pipeline replicas (data parallel)")
    p.add_argument("--data-parallel", choices=("ddp", "fsdp"), default="ddp")
    p.add_argument("--unpipelined", action="store_true", help="train the same model without the pipeline")
    p.add_argument("--timeout", type=positive_float, default=300.0, help="seconds a rank waits for a failed peer")
    p.add_argument("--checkpoint-every", type=nonnegative_int, default=10)
    a = p.parse_args(argv)
    if a.data != "synthetic" and a.root is None:
        p.error(f"--data {a.data} needs --root DIR holding ind.{a.data}.* (or use the default --data synthetic)")
    if not 0.0 <= a.dropout < 1.0:
        p.error(f"argument --dropout: expected a number in [0, 1) (got {a.dropout})")
    if a.unpipelined and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        p.error("--unpipelined trains in one process; run it with python, not torchrun")
    return a


def main(argv=None) -> dict:
    args = parse(argv)
    torch.manual_seed(args.seed)
    rank = int(os.environ.get("RANK", "0"))  # torchrun's; the folder and the data are checked before any group
    run = Run(args, resumable=("timeout", "checkpoint_every", "epochs")) if rank == 0 else None
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        ds, x = load_node_data(args.data, args.root, args.seed)
    except FileNotFoundError as err:
        fail(
            f"{err}; --root must hold the raw files ind.{args.data}.{{x,tx,allx,y,ty,ally,graph,test.index}} "
            f"(github.com/kimiyoung/planetoid, data/)"
        )
    layout = None if args.unpipelined else init_distributed(dp_size=args.dp, device=args.device, timeout=args.timeout)
    with FailureGuard(f"rank {rank}"):
        net = build_pipeline_model(args.model, ds, args.hidden, args.layers, args.dropout)
        model, crit = net.model, net.criterion
        device = layout.device if layout else torch.device(args.device)
        x, y, split = x.to(device), ds.y.to(device), ds.split.to(device)
        weight = torch.zeros(ds.num_nodes, device=device)
        weight[split.train] = (args.dp if layout else 1) / split.train.numel()  # replicas average gradients

        def loss_fn(out, targets):
            return (crit(out, targets[0], reduction="none") * targets[1]).sum()

        if layout is None:
            model = model.to(device)
            params, pipe = list(model.parameters()), LocalPipe(model, ds.graph.to(device), loss_fn)
        else:
            num_stages = args.stages or layout.pp_size
            if num_stages % layout.pp_size:
                fail(f"--stages {num_stages} must be a multiple of the pipeline length {layout.pp_size}")
            pipe = GNNPipe(
                net.layers,
                net.widths,
                net.graph,
                layout,
                loss_fn=loss_fn,
                split=choose_split(net.layers, x, net.graph.to(device), num_stages, by=args.split),
                stages_per_rank=num_stages // layout.pp_size,
                config=GNNPipeConfig(
                    args.chunks,
                    args.partition,
                    args.mode,
                    not args.no_warmup,
                    args.refresh_every,
                    not args.no_halo_grad,
                ),
                pipeline=PipelineConfig(args.schedule, data_parallel=args.data_parallel),
                generator=torch.Generator().manual_seed(args.seed),
            )
            driver = pipe.driver
            params = driver.parameters()
            driver.measure_bandwidth()
        opt = torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
        config = {
            "world": layout.world_size if layout else 1,
            "pp": layout.pp_size if layout else 1,
            "dp": args.dp,
            "split": [list(r) for r in pipe.split] if layout else None,
            "nodes": ds.num_nodes,
            "edges": ds.graph.num_edges,
        }
        if run:
            run.write_config(config)

        state = run.resume() if run else None
        start = [state["epoch"] if state else 0]
        if layout is not None:
            dist.broadcast_object_list(start, src=0)
            if start[0]:
                load_checkpoint(Path(args.out).resolve() / "dcp", driver, opt)
        elif state:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])

        epochs = range(start[0] + 1, args.epochs + 1)
        for epoch in run.bar(epochs, desc="epochs") if run else epochs:
            tic = time.perf_counter()
            opt.zero_grad()
            loss = pipe.step(x, (y, weight))
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            row = {"epoch": epoch, "loss": loss, "epoch_s": time.perf_counter() - tic}
            if layout is not None:
                row.update(epoch_time_split(driver, row["epoch_s"]))
            row["nodes_per_s"] = ds.num_nodes / row["epoch_s"]
            # exact full-graph evaluation (the last stage computes accuracies; everyone gets them)
            out = pipe.predict(x)
            accs = None if out is None else split_accuracies(out, y, split)
            if layout is not None:
                accs = driver.broadcast_from_last(accs)
            row.update(train_acc=accs[0], val_acc=accs[1], test_acc=accs[2])
            if run:
                run.log(row, step=epoch)
            if args.checkpoint_every and (epoch % args.checkpoint_every == 0 or epoch == args.epochs):
                if layout is not None:  # every rank writes its stages' shard
                    save_checkpoint(Path(args.out).resolve() / "dcp", driver, opt, extra={"epoch": epoch})
                if run:
                    run.checkpoint(
                        {"epoch": epoch}
                        if layout
                        else {"epoch": epoch, "model": model.state_dict(), "opt": opt.state_dict()},
                        step=epoch,
                    )

        metrics = None
        if run:
            metrics = summarize_epochs(run.rows, pipelined=layout is not None, extra=config)
            if layout is not None:
                gen = torch.Generator().manual_seed(args.seed)
                metrics["traffic_model"] = traffic_model(
                    pipe.split, pipe.propagates, net.widths, net.graph, args.partition, gen
                )
            run.finish(metrics)
    if layout is not None:
        layout.close()
    return metrics


if __name__ == "__main__":
    main()
