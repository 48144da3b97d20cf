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
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, example_parser, fail, nonnegative_int, positive_float, positive_int

from graphnets.conv import gcn_norm
from graphnets.node import DAGNN, DeepGCN, dagnn_layers, load_planetoid, make_sbm, row_normalize
from sampling.pipeline import (
    PARTITIONS,
    SCHEDULES,
    FailureGuard,
    GNNPipe,
    GNNPipeConfig,
    NodeWise,
    PipelineConfig,
    halo_exchange_bytes,
    init_distributed,
    load_checkpoint,
    measure_layer_costs,
    partition_nodes,
    pipeline_activation_bytes,
    save_checkpoint,
    split_by_cost,
    split_by_count,
)


def parse(argv=None):
    p = example_parser(__doc__, out="runs/pipeline_train")
    p.add_argument("--model", choices=("deep-gcn", "dagnn"), default="deep-gcn")
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


def load_data(args):
    if args.data == "synthetic":
        ds = make_sbm(
            torch.Generator().manual_seed(args.seed),
            num_classes=4,
            nodes_per_class=250,
            p_in=0.02,
            p_out=0.002,
            num_features=64,
        )
    else:
        try:
            ds = load_planetoid(args.root, args.data)
        except FileNotFoundError as err:
            fail(
                f"{err}; --root must hold the raw files ind.{args.data}.{{x,tx,allx,y,ty,ally,graph,test.index}} "
                f"(github.com/kimiyoung/planetoid, data/)"
            )
    return ds, row_normalize(ds.x)


def build_model(args, ds):
    if args.model == "deep-gcn":
        model = DeepGCN(ds.num_features, args.hidden, ds.num_classes, num_layers=args.layers, dropout=args.dropout)
        return (
            model,
            model.pipeline_layers(),
            model.layer_widths(),
            DeepGCN.propagation_graph(ds.graph),
            F.cross_entropy,
        )
    model = DAGNN(ds.num_features, args.hidden, ds.num_classes, K=args.layers, dropout=args.dropout)
    return model, *dagnn_layers(model), gcn_norm(ds.graph), F.nll_loss


def main(argv=None) -> dict:
    args = parse(argv)
    torch.manual_seed(args.seed)
    rank = int(os.environ.get("RANK", "0"))  # torchrun's; the folder and the data are checked before any group
    run = Run(args, resumable=("timeout", "checkpoint_every", "epochs")) if rank == 0 else None
    if args.threads:
        torch.set_num_threads(args.threads)
    ds, x = load_data(args)
    layout = None if args.unpipelined else init_distributed(dp_size=args.dp, device=args.device, timeout=args.timeout)
    with FailureGuard(f"rank {rank}"):
        model, layers, widths, agg, crit = build_model(args, ds)
        device = layout.device if layout else torch.device(args.device)
        x, y, split = x.to(device), ds.y.to(device), ds.split.to(device)
        weight = torch.zeros(ds.num_nodes, device=device)
        weight[split.train] = (args.dp if layout else 1) / split.train.numel()  # replicas average gradients

        def loss_fn(out, targets):
            return (crit(out, targets[0], reduction="none") * targets[1]).sum()

        if layout is None:
            model = model.to(device)
            params, graph = list(model.parameters()), ds.graph.to(device)
        else:
            num_stages = args.stages or layout.pp_size
            if num_stages % layout.pp_size:
                fail(f"--stages {num_stages} must be a multiple of the pipeline length {layout.pp_size}")
            split_ranges = split_by_count(len(layers), num_stages)
            if args.split == "cost":
                costs = (
                    [
                        measure_layer_costs(
                            layers, x, call=lambda m, h: m(h) if isinstance(m, NodeWise) else m(h, agg.to(device))
                        )
                    ]
                    if rank == 0
                    else [None]
                )
                dist.broadcast_object_list(costs, src=0)  # every rank must cut the model the same way
                split_ranges = split_by_cost(costs[0], num_stages)
            pipe = GNNPipe(
                layers,
                widths,
                agg,
                layout,
                loss_fn=loss_fn,
                split=split_ranges,
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
            if layout is None:
                model.train()
                loss = loss_fn(model(x, graph), (y, weight))
                loss.backward()
                loss = float(loss.detach())
            else:
                loss = pipe.step(x, (y, weight))
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            row = {"epoch": epoch, "loss": loss, "epoch_s": time.perf_counter() - tic}
            if layout is not None:
                row.update(time_split(driver, row["epoch_s"]))
            row["nodes_per_s"] = ds.num_nodes / row["epoch_s"]
            # exact full-graph evaluation (the last stage computes accuracies; everyone gets them)
            if layout is None:
                model.eval()
                with torch.no_grad():
                    out = model(x, graph)
            else:
                out = pipe.predict(x)
            accs = (
                None
                if out is None
                else [float((out[s].argmax(1) == y[s]).float().mean()) for s in (split.train, split.val, split.test)]
            )
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
            rows = run.rows
            best_row = max(rows, key=lambda r: r["val_acc"])
            metrics = {
                "best": {"epoch": best_row["epoch"], "val_acc": best_row["val_acc"], "test_acc": best_row["test_acc"]},
                "final": {k: rows[-1][k] for k in ("train_acc", "val_acc", "test_acc")},
                "epoch_seconds": statistics.median(r["epoch_s"] for r in rows),
                "nodes_per_second": statistics.median(r["nodes_per_s"] for r in rows),
                **config,
            }
            if layout is not None:
                for k in ("compute_s", "comm_s", "bubble_s"):
                    metrics[k.replace("_s", "_seconds")] = statistics.median(r[k] for r in rows)
                metrics["bytes_sent_per_epoch"] = statistics.median(r["bytes_sent"] for r in rows)
                metrics["traffic_model"] = traffic(pipe, agg, widths, args)
            run.finish(metrics)
    if layout is not None:
        layout.close()
    return metrics


def time_split(driver, wall: float) -> dict:
    """The epoch time of the slowest rank, and how ranks spent it on average: computing, receiving
    (bytes / measured bandwidth) and waiting (the bubble; on an oversubscribed CPU also for a core)."""
    st = driver.stats
    t = torch.tensor(
        [wall, st.compute_seconds, st.comm_seconds, wall - st.compute_seconds - st.comm_seconds, float(st.bytes_sent)],
        dtype=torch.float64,
        device=driver.device,
    )
    world = dist.get_world_size()
    top = t[:1].clone()
    dist.all_reduce(top, op=dist.ReduceOp.MAX)
    dist.all_reduce(t)
    return {
        "epoch_s": float(top),
        "compute_s": float(t[1]) / world,
        "comm_s": float(t[2]) / world,
        "bubble_s": max(float(t[3]) / world, 0.0),
        "bytes_sent": int(t[4]),
    }


def traffic(pipe, graph, widths, args) -> dict:
    """Analytical bytes per epoch (float32, forward + backward) of this pipeline and of graph parallelism
    with as many workers as stages (node partition as --partition), over the same layers."""
    workers = len(pipe.split)
    cuts = [widths[r.stop] for r in pipe.split[:-1]]
    graph_widths = [w for w, p in zip(widths, pipe.propagates) if p]
    gnnpipe = pipeline_activation_bytes(graph.num_nodes, cuts)
    parts = partition_nodes(
        graph.num_nodes, workers, method=args.partition, generator=torch.Generator().manual_seed(args.seed), graph=graph
    )
    halo = halo_exchange_bytes(graph, parts, graph_widths)
    return {
        "gnnpipe_bytes": gnnpipe,
        "graph_parallel_halo_bytes": halo,
        "workers": workers,
        "ratio_halo_over_gnnpipe": halo / gnnpipe if gnnpipe else None,
    }


if __name__ == "__main__":
    main()
