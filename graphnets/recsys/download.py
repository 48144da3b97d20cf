"""Download the LightGCN benchmark splits from the official repository, with checksums.

Files come from gusye1234/LightGCN-PyTorch (``data/<name>/``, commit
947ca2b3b1d2d3545b114145710cb06c4e57b3d2). SHA-256 values were computed from verified copies
(git blobs identical to the official repositories'); where no SHA-256 copy exists, the MD5
that reczoo publishes for the same file is checked instead. A file with neither (the Yelp2018
split) is accepted with a warning. Downloads go to ``<file>.part`` and are moved into place
only after the check passes.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
import warnings
from pathlib import Path
from typing import Optional, Union

__all__ = ["DOWNLOADS", "download_dataset", "verify_file"]

_BASE = "https://raw.githubusercontent.com/gusye1234/LightGCN-PyTorch/947ca2b3b1d2d3545b114145710cb06c4e57b3d2/data"

# name -> file -> (sha256 or None, md5 or None)
DOWNLOADS: dict[str, dict[str, tuple[Optional[str], Optional[str]]]] = {
    "gowalla": {
        "train.txt": ("7244696fdeb23911319cf7b689f2e15a3c4c92549c873a5677b44e3f13cc3e62", "5eec1eb2edb8dd648377d348b8e136cf"),
        "test.txt": ("099a2a73924e4b754dc6efd730d764f492321b53c38eb93298850c83acf57be3", "c04e2c4bcd2389f53ed8281816166149"),
        "user_list.txt": ("5344c4d0deef610e1f148f23ad216a0db03b36f88834cd39a06786a672c5f5a1", "f83ec6f2cd974ba6470e8808830cc144"),
        "item_list.txt": ("6b186f92890cc3f0c15a6dae5d6285f125a302bb8c5ea0cd9a16cf9c16347139", "13b1c0d75b07b8cea9413f40042f476f"),
    },
    "amazon-book": {
        "train.txt": (None, "c916ecac04ca72300a016228258b41ed"),
        "test.txt": ("6250754994dd953b91b48dccdd77a73f318e0634b4757c2abfcc9d33a54ab0f5", "30f8ccfea18d25007ba9fb9aba4e174d"),
        "user_list.txt": ("b59cc7e4a1826e1eb313c4f0557bdafbb70661346d9c93911b97fe0e9fbd7078", "132f8a5d6d35d5fdde1e0396488be235"),
        "item_list.txt": ("8eee6caf6e666d95fc24ca8e0ec089ee90b1b2d1dc17933726359a6b3ecd62cb", "5b1125ef3bf4118a7988f1fd8ce52ef9"),
    },
    "yelp2018": {
        "train.txt": (None, None),
        "test.txt": (None, None),
        "user_list.txt": (None, None),
        "item_list.txt": (None, None),
    },
}


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Union[str, os.PathLike], sha256: Optional[str], md5: Optional[str]) -> bool:
    """Check ``path`` against the known digest (SHA-256 preferred). ``False`` when none is known.

    Raises:
        ValueError: the digest differs.
    """
    path = Path(path)
    for algo, expected in (("sha256", sha256), ("md5", md5)):
        if expected is not None:
            got = _digest(path, algo)
            if got != expected:
                raise ValueError(f"verify_file: {path} has {algo} {got} (expected {expected}); "
                                 f"the file is corrupt or not the official split")
            return True
    return False


def download_dataset(name: str, root: Union[str, os.PathLike], *, base_url: str = _BASE, force: bool = False) -> Path:
    """Fetch ``name`` into ``<root>/<name>/`` (skipping files that exist and verify); returns the folder.

    Raises:
        ValueError: unknown name or checksum mismatch. OSError / URLError: network failure.
    """
    if name not in DOWNLOADS:
        raise ValueError(f"download_dataset: no download for {name!r} (valid: {sorted(DOWNLOADS)})")
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, (sha256, md5) in DOWNLOADS[name].items():
        target = folder / file
        if target.exists() and not force:
            verify_file(target, sha256, md5)
            continue
        part = folder / (file + ".part")
        urllib.request.urlretrieve(f"{base_url}/{name}/{file}", part)
        try:
            known = verify_file(part, sha256, md5)
        except ValueError:
            part.unlink()
            raise
        if not known:
            warnings.warn(f"download_dataset: no checksum is known for {name}/{file}; it was not verified",
                          stacklevel=2)
        os.replace(part, target)
    return folder
