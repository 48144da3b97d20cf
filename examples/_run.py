"""The run folder and command line shared by every example: one policy, one set of flags.

An example uses it like this::

    from _run import Run, example_parser, positive_int

    p = example_parser(__doc__, out="runs/my_example")   # --out --resume --overwrite --seed --device --threads
    p.add_argument("--epochs", type=positive_int, default=3)   # bad values: one-line error, exit 2
    args = p.parse_args(argv)
    run = Run(args, name="my_example")               # claims --out (refuses another run's folder), prints it
    ...load data (missing files: fail("... how to obtain them")), build model...
    run.write_config({...})                          # config.json: the resolved settings
    state = run.resume()                             # None, or the last checkpoint (weights only, RNG restored)
    start = 1 if state is None else state["epoch"] + 1   # (and load model/optimizer state from it)
    for epoch in range(start, args.epochs + 1):
        for batch in run.bar(loader, desc=f"epoch {epoch}"): ...   # tqdm on stderr, only on a terminal
        run.log({"epoch": epoch, "loss": loss}, step=epoch)      # metrics.csv, TensorBoard, a key: value line
        run.checkpoint({"model": model.state_dict(), "epoch": epoch}, step=epoch)  # atomic
    run.finish({"best": ...})                        # metrics.json, prints the folder again

Folder policy: ``--out`` must be new, empty, or a folder an example made. One holding a run
(its ``config.json``) is refused unless ``--resume`` (continue from its checkpoint; the other
settings must match) or ``--overwrite`` (delete its contents first, so TensorBoard events never
pile up). A non-empty folder an example did not make is never written into nor deleted.

Checkpoints are written to ``<name>.part``, flushed to disk and renamed over ``<name>``: a run
killed at any moment leaves the previous checkpoint intact. They hold tensors, numbers,
strings, lists and dicts only and load with ``torch.load(weights_only=True)``, which executes
no code from the file; a corrupt or foreign file is a one-line error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import torch

__all__ = [
    "CHECKPOINT_FORMAT",
    "ExampleParser",
    "Run",
    "atomic_write",
    "choice_list",
    "comma_list",
    "example_parser",
    "fail",
    "float_list",
    "fraction",
    "int_list",
    "load_checkpoint",
    "load_weights",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "progress",
    "resolve_device",
    "save_checkpoint",
    "shape",
    "strict_json",
]

CHECKPOINT_FORMAT = "graphspike.examples.run/1"
MARKER = ".graphspike-run"  # written into every folder a run claims
# flags that may differ between a run and its --resume (everything else must match; an example whose
# schedule does not depend on it adds "epochs" through ``Run(resumable=...)``)
RESUMABLE = ("out", "resume", "overwrite", "threads", "device", "download")


def _prog() -> str:
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "example"


def fail(message: str) -> NoReturn:
    """Stop with a command-line error: one line ``<prog>: error: <message>`` on stderr, exit status 2."""
    print(f"{_prog()}: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


# --- argument types: each raises ArgumentTypeError, which the parser turns into one line -------------


def _number(kind: Callable, name: str, ok: Callable[[Any], bool], expected: str) -> Callable[[str], Any]:
    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {expected} (got {text!r})") from None
        if isinstance(value, float) and not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected} (got {text!r})")
        return value

    parse.__name__ = name
    return parse


positive_int = _number(int, "positive_int", lambda v: v > 0, "an integer >= 1")
nonnegative_int = _number(int, "nonnegative_int", lambda v: v >= 0, "an integer >= 0")
positive_float = _number(float, "positive_float", lambda v: v > 0, "a finite number > 0")
nonnegative_float = _number(float, "nonnegative_float", lambda v: v >= 0, "a finite number >= 0")
fraction = _number(float, "fraction", lambda v: 0 <= v <= 1, "a number in [0, 1]")


def comma_list(item: Callable[[str], Any], name: str = "comma_list") -> Callable[[str], list]:
    """An argument type: ``"a,b"`` -> ``[item("a"), item("b")]`` (at least one item)."""

    def parse(text: str) -> list:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected a comma list (got {text!r})")
        return [item(p) for p in parts]

    parse.__name__ = name
    return parse


int_list = comma_list(positive_int, "int_list")  # "2,5" -> [2, 5]; every item >= 1
float_list = comma_list(nonnegative_float, "float_list")  # "3e-3,0.1" -> [0.003, 0.1]; every item >= 0


def shape(text: str) -> tuple[int, ...]:
    """``"1x3x224x224"`` (or ``"1,3,224,224"``) -> ``(1, 3, 224, 224)``, every dimension >= 1."""
    try:
        dims = tuple(int(d) for d in text.lower().replace(",", "x").split("x") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 1x3x224x224 (got {text!r})") from None
    if not dims or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"expected positive dimensions like 1x3x224x224 (got {text!r})")
    return dims


def choice_list(choices: Sequence[str]) -> Callable[[str], list]:
    """``"a,b"`` -> ``["a", "b"]``, every item one of ``choices``, no repeats."""

    def item(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"expected a comma list of {list(choices)} (got {text!r})")
        return text

    parse_list = comma_list(item, "choice_list")

    def parse(text: str) -> list:
        values = parse_list(text)
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"expected each of {list(choices)} at most once (got {text!r})")
        return values

    parse.__name__ = "choice_list"
    return parse


def resolve_device(text: str) -> str:
    """``auto`` (cuda when a GPU is visible, else cpu), ``cpu``, ``cuda`` or ``cuda:N``; a GPU that is
    asked for but absent is an error, never a silent fallback."""
    text = text.strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    if text == "cuda" or text.startswith("cuda:"):
        index = text[5:]
        if index and not index.isdigit():
            raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N (got {text!r})")
        if not torch.cuda.is_available():
            why = "a CPU-only torch build" if torch.version.cuda is None else "no GPU visible"
            raise argparse.ArgumentTypeError(
                f"{text} requested but CUDA is not available ({why}); use --device cpu or --device auto"
            )
        if index and int(index) >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(f"{text} requested but only {torch.cuda.device_count()} GPU(s) visible")
        return text
    raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N (got {text!r})")


resolve_device.__name__ = "device"


class ExampleParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line (``prog: error: ...``, exit 2) without the usage block."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr, flush=True)
        raise SystemExit(2)


def example_parser(
    doc: str | None, *, out: str, seed: int = 0, threads: int | None = None, device: bool = True
) -> ExampleParser:
    """A parser with the flags every example shares; ``doc``'s first paragraph is the description.

    ``--out DIR`` (default ``out``), ``--resume`` / ``--overwrite`` (exclusive), ``--seed N`` (>= 0),
    ``--device auto|cpu|cuda|cuda:N`` (resolved to a string by :func:`resolve_device`),
    ``--threads N`` (torch CPU threads, default ``threads``; ``None``: torch's choice).
    """
    first = (doc or "").strip().split("\n\n")[0]
    p = ExampleParser(prog=_prog(), description=first, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = p.add_argument_group("run folder and machine (shared by every example)")
    g.add_argument("--out", default=out, help="run folder: config.json, metrics.csv/.json, tb/, checkpoints")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    mode.add_argument("--overwrite", action="store_true", help="delete the run in --out and start afresh")
    g.add_argument("--seed", type=nonnegative_int, default=seed, help="seed of every random choice")
    if device:
        g.add_argument("--device", type=resolve_device, default="auto", help="auto (cuda if available), cpu, cuda[:N]")
    g.add_argument("--threads", type=positive_int, default=threads, help="torch CPU threads (default: torch's choice)")
    return p


# --- files -----------------------------------------------------------------------------------------


def atomic_write(path: os.PathLike, data: bytes | str | Callable[[io.BufferedWriter], None]) -> Path:
    """Write ``path`` through ``<path>.part`` + fsync + rename: readers see the old file or the whole new one.

    ``data`` is bytes, text (UTF-8) or a function that writes into the open binary file.
    """
    path = Path(path)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        if callable(data):
            data(fh)
        else:
            fh.write(data.encode() if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return path


def strict_json(obj: Any) -> Any:
    """NaN/inf -> ``None`` (strict JSON), tuples -> lists, tensors -> numbers/lists, paths -> strings."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return strict_json(obj.tolist())
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


def _json_text(obj: Any) -> str:
    return json.dumps(strict_json(obj), indent=2, allow_nan=False) + "\n"


_SAFE_LEAVES = (torch.Tensor, str, int, float, bool, type(None), torch.dtype, torch.device, torch.Size)


def _check_safe(obj: Any, where: str) -> None:
    """Refuse, at save time, anything ``torch.load(weights_only=True)`` would refuse at load time."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(
                    f"save_checkpoint: {where} has a key of type {type(k).__name__}; keys must be str or int"
                )
            _check_safe(v, f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_safe(v, f"{where}[{i}]")
    elif not isinstance(obj, _SAFE_LEAVES):
        raise TypeError(
            f"save_checkpoint: {where} is a {type(obj).__name__}; a checkpoint holds tensors, numbers, "
            f"strings, lists and dicts only (use dataclasses.asdict / state_dict())"
        )


def save_checkpoint(path: os.PathLike, state: dict, *, example: str, **meta: Any) -> Path:
    """Write ``{"format", "example", **meta, "state": state}`` atomically (see :func:`atomic_write`)."""
    payload = {"format": CHECKPOINT_FORMAT, "example": example, **meta, "state": state}
    _check_safe(payload, "checkpoint")
    return atomic_write(path, lambda fh: torch.save(payload, fh))


def load_checkpoint(path: os.PathLike, *, example: str | None = None) -> dict:
    """Read a checkpoint of :func:`save_checkpoint` without executing code (``weights_only=True``).

    Returns the whole payload (``payload["state"]`` is what was saved). A missing, corrupt,
    code-carrying or foreign file (another example's when ``example`` is given) is a
    :func:`fail` (one line, exit 2).
    """
    path = Path(path)
    if not path.is_file():
        fail(f"no checkpoint {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError/UnpicklingError/EOFError/... here
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "weights_only" in str(err) or "Unsupported global" in str(err):
            reason = "it holds Python objects that loading would have to execute (refused: weights only)"
        fail(f"checkpoint {path} cannot be read: {reason}")
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        fail(f"{path} is not a checkpoint of a graphspike example (format {got!r}, expected {CHECKPOINT_FORMAT!r})")
    if example is not None and payload.get("example") != example:
        fail(f"{path} is a checkpoint of {payload.get('example')!r}, not of {example!r}")
    return payload


def load_weights(path: os.PathLike) -> dict:
    """A model ``state_dict`` from ``path``: a run's checkpoint (its state's ``model``, or
    ``trainer.model``) or a plain state dict, read weights-only; anything else is a :func:`fail`."""
    path = Path(path)
    if not path.is_file():
        fail(f"no such checkpoint file {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - see load_checkpoint
        obj = None
        if "weights_only" in str(err) or "Unsupported global" in str(err):
            fail(f"{path} holds Python objects that loading would have to execute (refused: weights only)")
        fail(f"{path} cannot be read: {str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}")
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        obj = obj["state"]
        obj = obj.get("trainer", obj) if isinstance(obj.get("trainer"), dict) else obj
        obj = obj.get("model", obj) if isinstance(obj.get("model"), dict) else obj
    elif isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        fail(f"{path} holds no model state dict (expected a run checkpoint or a dict of tensors)")
    return obj


def progress(iterable: Iterable | None = None, **kwargs: Any):
    """A tqdm bar on stderr, shown only when stderr is a terminal (logs stay clean)."""
    from tqdm import tqdm

    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, file=sys.stderr, disable=not sys.stderr.isatty(), **kwargs)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.5g}" if math.isfinite(v) and (abs(v) >= 1e-3 or v == 0) else f"{v:.4g}"
    return str(v)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


class Run:
    """One example run in one folder: the folder policy, config, metrics, TensorBoard, checkpoints.

    Args:
        args: the parsed arguments of :func:`example_parser` (``out``, ``resume``, ``overwrite``,
            ``seed``, ``threads``, optionally ``device``). ``vars(args)`` is saved in
            ``config.json`` and in every checkpoint.
        name: the example's name (default: the script's file stem); checkpoints record it.
        resumable: extra flags that may change on ``--resume`` (beside :data:`RESUMABLE`).
        can_resume: ``False`` for examples without training (``--resume`` is then an error).

    On construction it applies the folder policy, prints ``run folder: <path>``, sets the torch
    thread count and seeds torch's global generator with ``--seed``.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        name: str | None = None,
        resumable: Sequence[str] = (),
        can_resume: bool = True,
    ) -> None:
        self.args = args
        self.name = name or Path(sys.argv[0]).stem or "example"
        self.out = Path(args.out).resolve()
        self.device = torch.device(getattr(args, "device", "cpu"))
        self.resumable = set(RESUMABLE) | set(resumable)
        self.rows: list[dict] = []
        self._tb_rows: list[tuple[str, dict, int]] = []
        self._writer = None
        self._payload: dict | None = None
        self._t0 = time.perf_counter()
        self._elapsed0 = 0.0
        if args.resume and not can_resume:
            fail(f"--resume: {self.name} trains nothing, so there is nothing to resume (use --overwrite)")
        self._claim()
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        print(f"run folder: {self.out}", flush=True)

    # --- folder policy ------------------------------------------------------------------------------
    def _claim(self) -> None:
        out, a = self.out, self.args
        if out.exists() and not out.is_dir():
            fail(f"--out {out} is a file, not a folder")
        entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        ours = MARKER in entries
        if entries and not ours:
            fail(
                f"--out {out} is not empty and was not made by an example; refusing to write into it or "
                f"delete it (choose a new folder)"
            )
        has_run = ours and (out / "config.json").exists()
        if a.resume:
            if not has_run:
                fail(f"--resume: {out} holds no run to continue (start without --resume)")
            if not (out / "checkpoint.pt").exists():
                fail(
                    f"--resume: {out} holds no checkpoint.pt (the run stopped before its first checkpoint); "
                    f"use --overwrite to start again"
                )
        elif has_run and not a.overwrite:
            fail(
                f"--out {out} holds another run; pass --resume to continue it, --overwrite to replace it, "
                f"or choose another --out"
            )
        elif ours and a.overwrite:
            for entry in out.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text(self.name + "\n")
        for stale in out.rglob("*.part"):  # left by a run killed while writing
            stale.unlink()

    def path(self, name: str) -> Path:
        """``<out>/<name>``, creating its parent folder."""
        p = self.out / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # --- config and results -------------------------------------------------------------------------
    def write_config(self, config: dict | None = None) -> dict:
        """``config.json``: the example, its flags, the resolved ``config``, torch, threads, device, commit."""
        resolved = {
            "example": self.name,
            "args": vars(self.args),
            "config": config or {},
            "device": str(self.device),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "git_commit": _git_commit(),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        }
        atomic_write(self.path("config.json"), _json_text(resolved))
        return resolved

    def write_json(self, name: str, obj: Any) -> Path:
        """``<out>/<name>`` as strict JSON (NaN -> null), atomically."""
        return atomic_write(self.path(name), _json_text(obj))

    def log(self, row: dict, *, step: int, tag: str = "", echo: bool = True, csv: bool = True, tb: bool = True) -> None:
        """Append ``row`` to ``metrics.csv`` (``csv``), add its numbers to TensorBoard as ``<tag>/<key>``
        at ``step`` (``tb``; ``epoch``/``step`` columns are not plotted) and print it as one
        ``key: value`` line (``echo``)."""
        row = dict(row)
        if csv:
            self.rows.append(row)
            self._write_csv()
        if tb:
            self._tb_rows.append((tag, row, int(step)))
            self._add_scalars(tag, row, int(step))
        if echo:
            self.print("  ".join(f"{k}: {_fmt(v)}" for k, v in row.items()))

    def print(self, text: str) -> None:
        """Print a line on stdout without breaking a progress bar that is showing on the terminal."""
        from tqdm import tqdm

        tqdm.write(text, file=sys.stdout)
        sys.stdout.flush()

    def amend(self, values: dict, *, step: int, tag: str = "") -> None:
        """Add ``values`` to the last ``metrics.csv`` row (e.g. an evaluation after the epoch's row) and to
        TensorBoard at ``step``."""
        if not self.rows:
            raise ValueError("Run.amend: no row logged yet (got an empty metrics table)")
        self.rows[-1].update(values)
        self._write_csv()
        self._tb_rows.append((tag, dict(values), int(step)))
        self._add_scalars(tag, values, int(step))

    def _add_scalars(self, tag: str, row: dict, step: int) -> None:
        writer = self._tb()
        for k, v in row.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("epoch", "step"):
                writer.add_scalar(f"{tag}/{k}" if tag else k, v, step)

    def _tb(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.path("tb")))
        return self._writer

    def _write_csv(self) -> None:
        keys = list(dict.fromkeys(k for r in self.rows for k in r))

        def write(fh) -> None:
            text = io.StringIO()
            w = csv.DictWriter(text, fieldnames=keys)
            w.writeheader()
            w.writerows(self.rows)
            fh.write(text.getvalue().encode())

        atomic_write(self.path("metrics.csv"), write)

    @property
    def seconds(self) -> float:
        """Wall seconds of this run, including the time before a ``--resume``."""
        return self._elapsed0 + time.perf_counter() - self._t0

    def finish(self, metrics: dict) -> dict:
        """Write ``metrics.json``, close TensorBoard, print the folder; returns ``strict_json(metrics)``."""
        metrics = strict_json(metrics)
        self.write_json("metrics.json", metrics)
        self.close()
        files = sorted(p.name + ("/" if p.is_dir() else "") for p in self.out.iterdir() if p.name != MARKER)
        print(f"run folder: {self.out} ({', '.join(files)})", flush=True)
        return metrics

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- checkpoints --------------------------------------------------------------------------------
    def checkpoint(self, state: dict, *, step: int, name: str = "checkpoint.pt") -> Path:
        """Save ``state`` with the metrics rows so far, torch's RNG states and the wall time (atomic).

        ``name="checkpoint.pt"`` is what ``--resume`` continues from; other names (``best.pt``)
        are kept alongside.
        """
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return save_checkpoint(
            self.path(name),
            state,
            example=self.name,
            args=strict_json(vars(self.args)),
            step=int(step),
            rows=strict_json(self.rows),
            tb=strict_json(self._tb_rows),
            rng=rng,
            seconds=self.seconds,
        )

    def resume(self) -> dict | None:
        """Without ``--resume``: ``None``. With it: the state of ``checkpoint.pt``, after checking its
        flags match this run's, restoring metrics rows, TensorBoard (rewritten from the rows, so no
        duplicate events) and torch's RNG states. Call it after building the model, before training."""
        if not self.args.resume:
            return None
        if self._payload is None:
            payload = load_checkpoint(self.out / "checkpoint.pt", example=self.name)
            saved, now = payload.get("args", {}), strict_json(vars(self.args))
            changed = [
                f"--{k.replace('_', '-')} {saved.get(k)!r} -> {now.get(k)!r}"
                for k in sorted(set(saved) | set(now))
                if k not in self.resumable and saved.get(k) != now.get(k)
            ]
            if changed:
                fail(
                    f"--resume: the run in {self.out} was started with other settings ({'; '.join(changed)}); "
                    f"resume with the same flags or use --overwrite"
                )
            self._payload = payload
            self.rows = [dict(r) for r in payload["rows"]]
            self._tb_rows = [(t, dict(r), int(s)) for t, r, s in payload["tb"]]
            self._elapsed0 = float(payload["seconds"])
            self._t0 = time.perf_counter()
            if (self.out / "tb").exists():
                shutil.rmtree(self.out / "tb")
            for tag, row, step in self._tb_rows:
                self._add_scalars(tag, row, step)
            self._write_csv()
            print(f"resumed from {self.out / 'checkpoint.pt'} (step {payload['step']})", flush=True)
        rng = self._payload["rng"]
        torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        return self._payload["state"]

    def bar(self, iterable: Iterable | None = None, **kwargs: Any):
        """:func:`progress`: a tqdm bar on stderr, only when stderr is a terminal."""
        return progress(iterable, **kwargs)
