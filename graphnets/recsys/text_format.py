"""Readers and writer for the LightGCN / UltraGCN text split format.

One line per user: ``uid iid iid ...``, whitespace-separated, 0-based ids (``train.txt`` and
``test.txt`` in one folder per dataset, as ``../shared/data/<name>/`` is laid out). A line that
holds only ``uid`` is a user without items in that file. Blank lines are skipped. The same
user on two lines is merged (the repeated-pair check then applies to the union).

Ids are ASCII decimal integers below 2**63 separated by spaces or tabs; lines end at ``\n``
(``\r\n`` too). How we differ from the official loaders: they parse with ``int()``, which also
takes ``+3``, ``1_000`` or non-ASCII digits, and crash (or silently keep bad data) on malformed
lines; here every problem is reported with the file and line number. The official loaders keep a
pair repeated across lines (and their ``csr_matrix`` then counts it twice); here it is an error
(see :class:`InteractionData`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from graphnets.recsys.data import InteractionData

__all__ = ["read_user_item_lines", "load_lightgcn_split", "write_user_item_lines"]

PathLike = Union[str, os.PathLike]


_TOKEN = re.compile(rb"-?[0-9]+")
_INT64_DIGITS = len(str(2**63 - 1))
_PLAIN_LINE = re.compile(rb"[ \t]*[0-9]{1,18}(?:[ \t]+[0-9]{1,18})*[ \t]*\r?\n?")  # fast path: no check can fail


def read_user_item_lines(path: PathLike) -> tuple[Tensor, Tensor]:
    """Parse one ``uid iid iid ...`` file into ``(users, items)`` int64 pair lists.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is empty, a token is not a non-negative ASCII integer below 2**63
            (file:line given), or an item is repeated on one line.
    """
    fn = "read_user_item_lines"
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{fn}: no such file {str(path)!r}")
    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    n_lines = 0
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if _PLAIN_LINE.fullmatch(line):
                ids = np.array(line.split(), dtype=np.int64)
                n_lines += 1
                _append_row(fn, path, lineno, ids, users, items)
                continue
            parts = line.replace(b"\t", b" ").rstrip(b"\r\n").split(b" ")
            parts = [p for p in parts if p]
            if not parts:
                continue
            n_lines += 1
            bad = next((p for p in parts if not _TOKEN.fullmatch(p) or len(p.lstrip(b"-")) > _INT64_DIGITS), None)
            if bad is None:
                values = [int(p) for p in parts]
                bad = next((p for p, v in zip(parts, values) if v >= 2**63), None)
            if bad is not None:
                raise ValueError(
                    f"{fn}: {path}:{lineno}: expected integer ids 'uid iid iid ...' "
                    f"(got token {bad.decode('utf-8', 'replace')!r})"
                )
            ids = np.array(values, dtype=np.int64)
            if int(ids.min()) < 0:
                raise ValueError(f"{fn}: {path}:{lineno}: ids must be >= 0 (got {int(ids.min())})")
            _append_row(fn, path, lineno, ids, users, items)
    if n_lines == 0:
        raise ValueError(f"{fn}: {path} is empty (expected lines 'uid iid iid ...')")
    return torch.from_numpy(np.concatenate(users)), torch.from_numpy(np.concatenate(items))


def _append_row(fn: str, path: Path, lineno: int, ids: np.ndarray, users: list, items: list) -> None:
    row_items = ids[1:]
    n_unique = np.unique(row_items).size
    if n_unique != row_items.size:
        raise ValueError(
            f"{fn}: {path}:{lineno}: user {int(ids[0])} lists an item more than once "
            f"(got {row_items.size - n_unique} repeats)"
        )
    users.append(np.full(row_items.size, ids[0], dtype=np.int64))
    items.append(row_items)


def load_lightgcn_split(
    folder: PathLike,
    *,
    name: Optional[str] = None,
    num_users: Optional[int] = None,
    num_items: Optional[int] = None,
    cold_users: str = "error",
) -> InteractionData:
    """Load ``folder/train.txt`` and ``folder/test.txt`` into :class:`InteractionData`.

    Args:
        folder: the dataset folder (e.g. ``<root>/gowalla``).
        name: dataset label; defaults to the folder name.
        num_users, num_items: id-space sizes; default ``max id + 1`` over both files, as the
            official loaders compute them. Given explicitly, larger ids raise ``ValueError``.
        cold_users: ``"error"`` or ``"drop"``, see :class:`InteractionData`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"load_lightgcn_split: no such dataset folder {str(folder)!r}")
    tr_u, tr_i = read_user_item_lines(folder / "train.txt")
    te_u, te_i = read_user_item_lines(folder / "test.txt")
    return InteractionData(
        tr_u,
        tr_i,
        te_u,
        te_i,
        num_users=num_users,
        num_items=num_items,
        name=name or folder.name,
        cold_users=cold_users,
    )


def write_user_item_lines(path: PathLike, users: Tensor, items: Tensor, num_users: int) -> None:
    """Write pairs in the ``uid iid iid ...`` format (users without items get a bare ``uid``)."""
    order = torch.argsort(users * (int(items.max()) + 1 if items.numel() else 1) + items)
    users, items = users[order].tolist(), items[order].tolist()
    rows: list[list[int]] = [[] for _ in range(num_users)]
    for u, i in zip(users, items):
        rows[u].append(i)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for u, row in enumerate(rows):
            fh.write(" ".join(map(str, [u, *row])) + "\n")
    os.replace(tmp, path)
