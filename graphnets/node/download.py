"""Where the Planetoid citation graphs come from: the raw ``ind.<name>.*`` files, with checksums.

Files of kimiyoung/planetoid (``data/``, commit af6abf468a772cc055bec88c52e4d6f51b7c37e3; the same
git blobs as tkipf/gcn and shchur/gnn-benchmark). SHA-256 values were computed from verified
copies (Cora; PubMed except ``allx``); the others are accepted with a warning. The download
itself (``.part`` files, resume, verification) is :func:`sampling.download.fetch`.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sampling.download import Resource, fetch_all

__all__ = ["PLANETOID_DOWNLOADS", "download_planetoid"]

_BASE = "https://raw.githubusercontent.com/kimiyoung/planetoid/af6abf468a772cc055bec88c52e4d6f51b7c37e3/data"
_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_SHA256 = {
    "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "ind.pubmed.ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    "ind.pubmed.graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    "ind.pubmed.test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    "ind.pubmed.tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    "ind.pubmed.ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    "ind.pubmed.x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    "ind.pubmed.y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
}

PLANETOID_DOWNLOADS: dict[str, tuple[Resource, ...]] = {
    name: tuple(
        Resource(f"ind.{name}.{part}", f"{_BASE}/ind.{name}.{part}", sha256=_SHA256.get(f"ind.{name}.{part}"))
        for part in _PARTS
    )
    for name in ("cora", "citeseer", "pubmed")
}


def download_planetoid(
    name: str, root: str | os.PathLike, *, force: bool = False, opener: Callable[..., Any] = urllib.request.urlopen
) -> Path:
    """Fetch the eight raw files of ``name`` (cora, citeseer, pubmed) into ``root`` (the folder
    :func:`graphnets.node.load_planetoid` reads); files present and verified are kept. Returns ``root``.

    Raises:
        ValueError: unknown name or checksum mismatch. OSError / URLError: network failure.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in PLANETOID_DOWNLOADS:
        raise ValueError(f"download_planetoid: name must be one of {sorted(PLANETOID_DOWNLOADS)} (got {name!r})")
    fetch_all(PLANETOID_DOWNLOADS[key], root, force=force, opener=opener)
    return Path(root)
