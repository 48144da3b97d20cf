"""Reader for RecBole atomic ``.inter`` files (tab-separated, typed header).

Format (RecBole docs, "Atomic Files"): the first line names each column as ``name:type``
(``token``, ``token_seq``, ``float``, ``float_seq``), e.g.
``user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float``; every further line
holds one interaction. User and item tokens are arbitrary strings, remapped here to
contiguous ids in order of first appearance (train file first).

Tokens are the exact strings between the tabs, as RecBole reads them (``pd.read_csv`` with
``dtype=str``): ``"7"`` and ``"07"`` or ``"u1"`` and ``"u1 "`` are different users. The file is
UTF-8 (a leading byte-order mark is skipped). Unlike RecBole, which drops rows whose user or item
is missing (pandas' ``NaN``) with a logged warning, an empty token is an error here, and pandas'
``"NA"``/``"null"`` spellings are ordinary tokens.

Two layouts, as RecBole's ``benchmark_filename``: ``<name>.train.inter`` + ``<name>.test.inter``
(pre-split), or a single ``<name>.inter`` split per user at random with ``test_ratio``. A
``<name>.valid.inter`` is not read (:class:`InteractionData` holds train and test only; a warning
says so). RecBole keeps repeated (user, item) rows unless ``rm_dup_inter`` is set; here they
raise unless ``drop_duplicates=True`` (the first occurrence is kept). A test user without any
train row raises (naming the user's token and the line) unless ``cold_users="drop"``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Union

import torch
from torch import Tensor

from graphnets.recsys.data import InteractionData
from sampling import random_user_split

__all__ = ["read_inter", "load_recbole"]

PathLike = Union[str, os.PathLike]


def read_inter(
    path: PathLike, *, user_field: str = "user_id", item_field: str = "item_id"
) -> tuple[list[str], list[str]]:
    """``(user_tokens, item_tokens)`` of one ``.inter`` file.

    Raises:
        FileNotFoundError, ValueError: missing/empty file, text that is not UTF-8, a header without
        the two ``:token`` fields, or a line with the wrong number of columns or an empty token
        (file:line given).
    """
    users, items, _ = _read_inter_rows(path, user_field, item_field)
    return users, items


def _read_inter_rows(path: PathLike, user_field: str, item_field: str) -> tuple[list[str], list[str], list[int]]:
    """Tokens of each row and the row's line number."""
    fn = "read_inter"
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{fn}: no such file {str(path)!r}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise ValueError(f"{fn}: {path}:{line}: not UTF-8 text (got byte {err.object[err.start]:#04x})") from None
    lines = text.split("\n")
    header = lines[0].rstrip("\r")
    if not header.strip():
        raise ValueError(f"{fn}: {path} is empty (expected a header 'user_id:token\\titem_id:token...')")
    names = header.split("\t")
    fields = [n.split(":")[0] for n in names]
    try:
        cu, ci = fields.index(user_field), fields.index(item_field)
    except ValueError:
        raise ValueError(
            f"{fn}: {path}:1: header must name columns {user_field!r} and {item_field!r} (got {names})"
        ) from None
    for c in (cu, ci):
        if not names[c].endswith(":token"):
            raise ValueError(f"{fn}: {path}:1: column {names[c]!r} must have type ':token'")
    users: list[str] = []
    items: list[str] = []
    linenos: list[int] = []
    for lineno, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != len(names):
            raise ValueError(f"{fn}: {path}:{lineno}: expected {len(names)} tab-separated columns (got {len(parts)})")
        u, i = parts[cu], parts[ci]
        if not u or not i:
            raise ValueError(f"{fn}: {path}:{lineno}: empty {user_field if not u else item_field} token")
        users.append(u)
        items.append(i)
        linenos.append(lineno)
    return users, items, linenos


def _remap(tokens: list[str], table: dict[str, int]) -> Tensor:
    return torch.tensor([table.setdefault(t, len(table)) for t in tokens], dtype=torch.int64)


def _dedupe(users: Tensor, items: Tensor, num_items: int, drop: bool, where: str) -> tuple[Tensor, Tensor]:
    key = users * num_items + items
    uniq, inverse = torch.unique(key, return_inverse=True)
    if uniq.numel() == key.numel():
        return users, items
    if not drop:
        raise ValueError(
            f"load_recbole: {where} repeats (user, item) pairs (got {key.numel() - uniq.numel()} "
            f"repeats); pass drop_duplicates=True to keep the first of each"
        )
    first = torch.full((uniq.numel(),), key.numel(), dtype=torch.int64).scatter_reduce_(
        0, inverse, torch.arange(key.numel()), reduce="amin"
    )
    keep = torch.sort(first).values
    return users[keep], items[keep]


def load_recbole(
    folder: PathLike,
    name: Optional[str] = None,
    *,
    user_field: str = "user_id",
    item_field: str = "item_id",
    test_ratio: float = 0.2,
    drop_duplicates: bool = False,
    cold_users: str = "error",
    generator: Optional[torch.Generator] = None,
) -> InteractionData:
    """Load ``<folder>/<name>.train.inter`` + ``.test.inter``, or split ``<folder>/<name>.inter``.

    Args:
        folder: the dataset folder. name: file stem (default: the folder name).
        user_field, item_field: header names of the two token columns.
        test_ratio: share of each user's pairs moved to test when only ``<name>.inter`` exists.
        drop_duplicates: keep the first of repeated (user, item) rows instead of raising.
        cold_users: ``"error"`` (default) raises when a user of ``.test.inter`` has no row in
            ``.train.inter``; ``"drop"`` drops those test rows (see :class:`InteractionData`).
        generator: randomness of the split.

    The returned data carries ``user_tokens`` / ``item_tokens``: the file token of each id.
    """
    if cold_users not in ("error", "drop"):
        raise ValueError(f"load_recbole: cold_users must be 'error' or 'drop' (got {cold_users!r})")
    folder = Path(folder)
    name = name or folder.name
    users_tab: dict[str, int] = {}
    items_tab: dict[str, int] = {}
    train_file, test_file, single = (
        folder / f"{name}.train.inter",
        folder / f"{name}.test.inter",
        folder / f"{name}.inter",
    )
    if train_file.is_file() and test_file.is_file():
        valid_file = folder / f"{name}.valid.inter"
        if valid_file.is_file():
            warnings.warn(
                f"load_recbole: {valid_file.name} is not read (InteractionData holds a train and a test "
                "split only); merge it into the train or test file to use it",
                stacklevel=2,
            )
        tu, ti, _ = _read_inter_rows(train_file, user_field, item_field)
        su, si, lines = _read_inter_rows(test_file, user_field, item_field)
        tr_u, tr_i = _remap(tu, users_tab), _remap(ti, items_tab)
        te_u, te_i = _remap(su, users_tab), _remap(si, items_tab)
        num_users, num_items = len(users_tab), len(items_tab)
        if cold_users == "error":
            has_train = torch.zeros(num_users, dtype=torch.bool)
            has_train[tr_u] = True
            cold = ~has_train[te_u]  # [E_test], rows in file order
            if bool(cold.any()):
                first = int(cold.nonzero()[0, 0])
                n_cold = int(torch.unique(te_u[cold]).numel())
                raise ValueError(
                    f"load_recbole: user {su[first]!r} of {test_file}:{lines[first]} has no row in "
                    f"{train_file.name} (got {n_cold} such users); every test user needs a train interaction: "
                    "pass cold_users='drop' to drop their test rows"
                )
        tr_u, tr_i = _dedupe(tr_u, tr_i, num_items, drop_duplicates, str(train_file))
        te_u, te_i = _dedupe(te_u, te_i, num_items, drop_duplicates, str(test_file))
    elif single.is_file():
        u, i, _ = _read_inter_rows(single, user_field, item_field)
        users, items = _remap(u, users_tab), _remap(i, items_tab)
        num_users, num_items = len(users_tab), len(items_tab)
        users, items = _dedupe(users, items, num_items, drop_duplicates, str(single))
        is_test = random_user_split(users, items, num_users, test_ratio, generator)
        tr_u, tr_i, te_u, te_i = users[~is_test], items[~is_test], users[is_test], items[is_test]
    else:
        raise FileNotFoundError(
            f"load_recbole: expected {train_file.name} + {test_file.name} or {single.name} in {str(folder)!r}"
        )
    data = InteractionData(
        tr_u, tr_i, te_u, te_i, num_users=num_users, num_items=num_items, name=name, cold_users=cold_users
    )
    data.user_tokens = list(users_tab)  # id -> original token
    data.item_tokens = list(items_tab)
    return data
