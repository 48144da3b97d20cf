"""One download path for every dataset: checksums, atomic ``.part`` files, resume, safe extraction.

Each dataset package keeps a table of :class:`Resource` (file name, URL, SHA-256 and/or MD5)
and calls :func:`fetch` / :func:`fetch_all`; nothing here runs at import or inside a Dataset.

* A file already present and matching its checksum is reused (no network).
* Downloads go to ``<file>.part``; an interrupted download resumes from the bytes it holds (HTTP
  ``Range``; a server that ignores it sends the whole file, which then replaces the part).
* The finished part is verified (SHA-256 preferred, else MD5) and only then renamed to ``<file>``:
  a file under its final name is always complete and verified. A mismatch deletes the part and
  raises ``ValueError``; a file with no known checksum is accepted with a warning.
* Hosts that need a browser (``direct=False``) raise ``FileNotFoundError`` telling where to get
  the file and where to put it; :func:`fetch` then verifies the file placed by hand.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Resource", "extract", "fetch", "fetch_all", "file_digest", "verify"]


@dataclass(frozen=True)
class Resource:
    """One downloadable file.

    Attributes:
        filename: its name on disk.
        url: a direct link, or (``direct=False``) the page where a person downloads it.
        md5, sha256: known checksums (hex); SHA-256 is checked when both are known.
        direct: ``False`` when the host needs a browser (the file is placed by hand).
    """

    filename: str
    url: str
    md5: str | None = None
    direct: bool = True
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or self.filename in (".", ".."):
            raise ValueError(f"Resource: filename must be a plain file name (got {self.filename!r})")
        for algo, size in (("md5", 32), ("sha256", 64)):
            value = getattr(self, algo)
            if value is not None and (len(value) != size or any(c not in "0123456789abcdef" for c in value.lower())):
                raise ValueError(f"Resource: {algo} must be {size} hex digits (got {value!r})")

    @property
    def checksum(self) -> tuple[str, str] | None:
        """``(algorithm, hex digest)`` that :func:`verify` checks, or ``None``."""
        if self.sha256:
            return "sha256", self.sha256.lower()
        return ("md5", self.md5.lower()) if self.md5 else None


def file_digest(path: str | os.PathLike, algo: str = "sha256", chunk: int = 1 << 22) -> str:
    """Hex digest of a file (``algo``: any ``hashlib`` name)."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: str | os.PathLike, resource: Resource) -> bool:
    """Check ``path`` against ``resource``'s checksum; ``False`` when none is known.

    Raises:
        FileNotFoundError: ``path`` does not exist. ValueError: the checksum differs.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"verify: {os.fspath(path)!r} does not exist")
    if resource.checksum is None:
        return False
    algo, expected = resource.checksum
    got = file_digest(path, algo)
    if got != expected:
        raise ValueError(
            f"verify: checksum mismatch for {os.fspath(path)!r}: expected {algo} {expected} (got {got}); "
            f"the file is corrupt, incomplete or not the official one: delete it and download again"
        )
    return True


def _download(
    url: str, part: Path, timeout: float, opener: Callable[..., Any], progress: Callable[[int], Any] | None
) -> None:
    """Append the rest of ``url`` to ``part`` (Range request), or rewrite it when the server sends everything."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with opener(request, timeout=timeout) as r:
        status = getattr(r, "status", None) or r.getcode()
        resumed = have > 0 and status == 206
        with open(part, "ab" if resumed else "wb") as f:
            while block := r.read(1 << 20):
                f.write(block)
                if progress is not None:
                    progress(len(block))
            f.flush()
            os.fsync(f.fileno())


def fetch(
    resource: Resource,
    folder: str | os.PathLike,
    *,
    timeout: float = 60.0,
    force: bool = False,
    opener: Callable[..., Any] = urllib.request.urlopen,
    progress: Callable[[int], Any] | None = None,
) -> Path:
    """Make ``<folder>/<resource.filename>`` present and verified; returns its path.

    ``force`` downloads again even if a verified copy exists. ``opener`` is ``urlopen``-like
    (tests pass a fake); ``progress(n)`` gets the byte count of every block written.

    Raises:
        FileNotFoundError: a ``direct=False`` file is missing (the message says where to get it).
        ValueError: checksum mismatch (the part file is deleted). OSError / URLError: network failure
        (the part file is kept, so the next call resumes).
    """
    dest = Path(folder) / resource.filename
    if dest.is_file() and not force:
        if not verify(dest, resource):
            warnings.warn(f"fetch: no checksum is known for {dest}; using it unverified", stacklevel=2)
        return dest
    if not resource.direct:
        what = f"{resource.checksum[0]} {resource.checksum[1]}" if resource.checksum else "no checksum known"
        raise FileNotFoundError(
            f"fetch: {resource.filename} must be downloaded by hand from {resource.url} "
            f"into {os.fspath(folder)} ({what})"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if force and part.exists():
        part.unlink()
    _download(resource.url, part, timeout, opener, progress)
    try:
        known = verify(part, resource)
    except ValueError:
        part.unlink()
        raise
    if not known:
        warnings.warn(
            f"fetch: no checksum is known for {resource.filename} ({resource.url}); it was not verified", stacklevel=2
        )
    os.replace(part, dest)
    return dest


def fetch_all(resources: Iterable[Resource], folder: str | os.PathLike, **kwargs: Any) -> list[Path]:
    """:func:`fetch` every resource into ``folder``; keyword arguments as there."""
    return [fetch(r, folder, **kwargs) for r in resources]


def extract(archive: str | os.PathLike, to: str | os.PathLike) -> Path:
    """Extract a ``.zip`` or ``.tar(.gz)`` archive into ``to`` (returned), refusing members that would escape it."""
    to = Path(to).resolve()
    name = os.fspath(archive)
    if name.endswith(".zip"):
        to.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as z:
            for m in z.namelist():
                if not (to / m).resolve().is_relative_to(to):
                    raise ValueError(f"extract: member {m!r} of {name!r} escapes the target folder")
            z.extractall(to)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        to.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as t:
            t.extractall(to, filter="data")
    elif name.endswith(".gz"):
        import gzip

        to.mkdir(parents=True, exist_ok=True)
        with gzip.open(archive, "rb") as src, open(to / Path(name).name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        raise ValueError(f"extract: unsupported archive type {name!r} (expected .zip, .tar, .tar.gz, .gz)")
    return to
