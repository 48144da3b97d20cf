"""Where the recommendation splits come from: one table of files, URLs and checksums.

LightGCN splits (gowalla, yelp2018, amazon-book) come from gusye1234/LightGCN-PyTorch (``data/<name>/``,
commit 947ca2b3b1d2d3545b114145710cb06c4e57b3d2); UltraGCN's splits (amazon-electronics, ml-1m,
amazon-cds) from xue-pai/UltraGCN (``data/<folder>/``, commit b220010d62af08bd895963a3d71c7c8e55ee1f56).
SHA-256 values were computed from verified copies (git blobs identical to the official
repositories'); where no SHA-256 copy exists, the MD5 that reczoo publishes for the same file is
checked instead. A file with neither (the Yelp2018 split) is accepted with a warning. The
download itself (``.part`` files, resume, verification) is :func:`sampling.download.fetch`.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sampling.download import Resource, fetch_all

__all__ = ["DOWNLOADS", "download_dataset", "how_to_obtain"]

_LIGHTGCN = "https://raw.githubusercontent.com/gusye1234/LightGCN-PyTorch/947ca2b3b1d2d3545b114145710cb06c4e57b3d2/data"
_ULTRAGCN = "https://raw.githubusercontent.com/xue-pai/UltraGCN/b220010d62af08bd895963a3d71c7c8e55ee1f56/data"


def _files(base: str, folder: str, table: dict[str, tuple[str | None, str | None]]) -> tuple[Resource, ...]:
    return tuple(Resource(f, f"{base}/{folder}/{f}", md5=md5, sha256=sha) for f, (sha, md5) in table.items())


# name -> the files of <root>/<name>/ (file -> (sha256 or None, md5 or None))
DOWNLOADS: dict[str, tuple[Resource, ...]] = {
    "gowalla": _files(
        _LIGHTGCN,
        "gowalla",
        {
            "train.txt": (
                "7244696fdeb23911319cf7b689f2e15a3c4c92549c873a5677b44e3f13cc3e62",
                "5eec1eb2edb8dd648377d348b8e136cf",
            ),
            "test.txt": (
                "099a2a73924e4b754dc6efd730d764f492321b53c38eb93298850c83acf57be3",
                "c04e2c4bcd2389f53ed8281816166149",
            ),
            "user_list.txt": (
                "5344c4d0deef610e1f148f23ad216a0db03b36f88834cd39a06786a672c5f5a1",
                "f83ec6f2cd974ba6470e8808830cc144",
            ),
            "item_list.txt": (
                "6b186f92890cc3f0c15a6dae5d6285f125a302bb8c5ea0cd9a16cf9c16347139",
                "13b1c0d75b07b8cea9413f40042f476f",
            ),
        },
    ),
    "amazon-book": _files(
        _LIGHTGCN,
        "amazon-book",
        {
            "train.txt": (None, "c916ecac04ca72300a016228258b41ed"),
            "test.txt": (
                "6250754994dd953b91b48dccdd77a73f318e0634b4757c2abfcc9d33a54ab0f5",
                "30f8ccfea18d25007ba9fb9aba4e174d",
            ),
            "user_list.txt": (
                "b59cc7e4a1826e1eb313c4f0557bdafbb70661346d9c93911b97fe0e9fbd7078",
                "132f8a5d6d35d5fdde1e0396488be235",
            ),
            "item_list.txt": (
                "8eee6caf6e666d95fc24ca8e0ec089ee90b1b2d1dc17933726359a6b3ecd62cb",
                "5b1125ef3bf4118a7988f1fd8ce52ef9",
            ),
        },
    ),
    "yelp2018": _files(
        _LIGHTGCN, "yelp2018", {f: (None, None) for f in ("train.txt", "test.txt", "user_list.txt", "item_list.txt")}
    ),
    "amazon-electronics": _files(
        _ULTRAGCN,
        "electronics",
        {
            "train.txt": (
                "36162d78d851dd566c41380434b33785564761bc9e3bf869a523bb8bdde46cdd",
                "8eb4327b8e7d61ef47d3bcaec14d46a7",
            ),
            "test.txt": (
                "3484521a88bb32dccf5f09839446b3adbb21796bb075cf6eba37be411eadf0a6",
                "7d2d1054dba77982fe1b4d5c2d5e7fbe",
            ),
        },
    ),
    "ml-1m": _files(
        _ULTRAGCN,
        "ml-1m",
        {
            "train.txt": (
                "f088986b22f14f17136f9c4ef6f1269201f83dfb9ce259f1fd4ed46d72a92599",
                "db93f671bc5d1b1544ce4c29664f6778",
            ),
            "test.txt": (
                "7ca364f7f9321417b521745833b12719a2feb13253bccece2c04d5afe9fc3e15",
                "5e55bcbb6372ad4c6fafe79989e2f956",
            ),
        },
    ),
    "amazon-cds": _files(
        _ULTRAGCN,
        "amazoncds",
        {
            "train.txt": (
                "dffb4e0cb45813f752ebe4c201a6c35aeb2755289b39b89bc1c148df8afcbd0c",
                "411462b2ad7f4b0d2b127d1bd0ed5034",
            ),
            "test.txt": (
                "5ad687ad2d00d7b3da4b366736aa606a63b3df5a53502ffc860f40990d7d6c36",
                "0fae3007a01583395aa65605c4b7fd98",
            ),
        },
    ),
}


def download_dataset(
    name: str, root: str | os.PathLike, *, force: bool = False, opener: Callable[..., Any] = urllib.request.urlopen
) -> Path:
    """Fetch ``name`` into ``<root>/<name>/`` (files present and verified are kept); returns the folder.

    Raises:
        ValueError: unknown name or checksum mismatch. OSError / URLError: network failure (an
        interrupted file resumes on the next call).
    """
    if name not in DOWNLOADS:
        raise ValueError(f"download_dataset: no download for {name!r} (valid: {sorted(DOWNLOADS)})")
    folder = Path(root) / name
    fetch_all(DOWNLOADS[name], folder, force=force, opener=opener)
    return folder


def how_to_obtain(name: str, root: str | os.PathLike) -> str:
    """One sentence: what ``load_dataset(name, root)`` reads and how to get it."""
    folder = Path(root) / name
    text = (
        f"{name} must be {folder}/train.txt and test.txt (LightGCN format: one line per user, "
        f"'user item item ...', 0-based ids) or RecBole {folder}/{name}.train.inter and .test.inter"
    )
    if name in DOWNLOADS:
        text += f"; --download (download_dataset) fetches it from {DOWNLOADS[name][0].url.rsplit('/', 1)[0]}"
    return text
