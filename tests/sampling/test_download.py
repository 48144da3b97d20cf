"""sampling.download: checksums, atomic .part files, resume after an interruption, safe extraction.

The network is replaced by a fake ``urlopen`` serving bytes from memory (with or without Range support).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import pytest

from sampling.download import Resource, extract, fetch, fetch_all, file_digest, verify

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class FakeServer:
    """``urlopen``-like: serves ``data``, honours ``Range`` when ``ranges``, can die after ``fail_after`` bytes."""

    def __init__(self, data: bytes, ranges: bool = True, fail_after: int | None = None):
        self.data, self.ranges, self.fail_after, self.requests = data, ranges, fail_after, []

    def __call__(self, request, timeout=None):
        rng = request.get_header("Range")
        self.requests.append(rng)
        start = int(rng[6:-1]) if (rng and self.ranges) else 0
        body, status = self.data[start:], 206 if (rng and self.ranges) else 200
        server = self

        class Response(io.BytesIO):
            def __init__(self):
                super().__init__(body)
                self.status, self.sent = status, 0

            def read(self, n=-1):
                if server.fail_after is not None and self.sent >= server.fail_after:
                    raise ConnectionResetError("connection dropped")
                block = super().read(n if server.fail_after is None else min(n, server.fail_after - self.sent))
                self.sent += len(block)
                return block

            def getcode(self):
                return self.status

        return Response()


def res(**kw) -> Resource:
    return Resource("data.bin", "https://example.org/data.bin", **kw)


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_fetch_verifies_and_renames_atomically(tmp_path):
    path = fetch(res(sha256=SHA), tmp_path, opener=FakeServer(PAYLOAD))
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "data.bin.part").exists()
    assert fetch(res(sha256=SHA), tmp_path, opener=None) == path  # present and verified: no network


def test_interrupted_download_resumes_from_the_part_file(tmp_path):
    with pytest.raises(ConnectionResetError):
        fetch(res(sha256=SHA), tmp_path, opener=FakeServer(PAYLOAD, fail_after=300_000))
    part = tmp_path / "data.bin.part"
    assert part.stat().st_size == 300_000 and not (tmp_path / "data.bin").exists()
    server = FakeServer(PAYLOAD)
    fetch(res(sha256=SHA), tmp_path, opener=server)
    assert server.requests == ["bytes=300000-"] and (tmp_path / "data.bin").read_bytes() == PAYLOAD
    # a server without Range support sends everything again: the part is rewritten, not appended to
    (tmp_path / "data.bin").unlink()
    part.write_bytes(PAYLOAD[:1000])
    fetch(res(sha256=SHA), tmp_path, opener=FakeServer(PAYLOAD, ranges=False))
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_the_part(tmp_path):
    with pytest.raises(ValueError, match="checksum mismatch .* expected sha256 0{64}"):
        fetch(res(sha256="0" * 64), tmp_path, opener=FakeServer(PAYLOAD))
    assert not list(tmp_path.iterdir())
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert verify(fetch(res(md5=md5), tmp_path, opener=FakeServer(PAYLOAD)), res(md5=md5))


def test_unknown_checksum_warns_and_manual_files(tmp_path):
    with pytest.warns(UserWarning, match="no checksum is known"):
        fetch(res(), tmp_path, opener=FakeServer(b"abc"))
    manual = Resource("x.zip", "https://example.org/page", md5="0" * 32, direct=False)
    with pytest.raises(FileNotFoundError, match=r"x.zip must be downloaded by hand from https://example.org/page"):
        fetch(manual, tmp_path)
    (tmp_path / "y.bin").write_bytes(b"graphspike")
    placed = Resource("y.bin", "https://example.org/page", md5=hashlib.md5(b"graphspike").hexdigest(), direct=False)
    assert fetch_all([placed], tmp_path) == [tmp_path / "y.bin"]  # placed by hand: verified, reused
    with pytest.raises(ValueError, match="md5 must be 32 hex digits"):
        Resource("a", "u", md5="xyz")
    with pytest.raises(ValueError, match="plain file name"):
        Resource("../a", "u")
    assert file_digest(tmp_path / "y.bin", "md5") == placed.md5


def test_extract_is_safe(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(ValueError, match="escapes"):
        extract(z, tmp_path / "out")
    with pytest.raises(ValueError, match="unsupported archive"):
        extract(tmp_path / "a.rar", tmp_path)
    with gzip.open(tmp_path / "f.txt.gz", "wb") as fh:
        fh.write(b"hello")
    assert (extract(tmp_path / "f.txt.gz", tmp_path / "o") / "f.txt").read_bytes() == b"hello"
