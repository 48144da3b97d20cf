"""Download helpers: checksum table, verification, safe extraction (no network used)."""
from __future__ import annotations

import hashlib
import re
import zipfile

import pytest

from spiking.datasets.download import RESOURCES, Resource, extract, fetch, md5sum, prepare, verify


def test_resource_table():
    assert set(RESOURCES) == {"nmnist", "ncaltech101", "dvs128gesture", "cifar10dvs", "shd", "ssc"}
    for res in (r for rs in RESOURCES.values() for r in rs):
        assert re.fullmatch(r"[0-9a-f]{32}", res.md5) and res.url.startswith("https://")
    assert len(RESOURCES["cifar10dvs"]) == 10 and len({r.md5 for r in RESOURCES["ssc"] + RESOURCES["shd"]}) == 5


def test_verify_and_manual_resources(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"graphspike")
    md5 = hashlib.md5(b"graphspike").hexdigest()
    assert md5sum(f) == md5
    verify(f, md5)
    with pytest.raises(ValueError, match="checksum mismatch"):
        verify(f, "0" * 32)
    with pytest.raises(FileNotFoundError, match="by hand"):
        fetch(Resource("x.zip", "https://example.invalid/page", "0" * 32, False), tmp_path)
    assert fetch(Resource("a.bin", "https://example.invalid/never-used", md5, True), tmp_path) == f  # reused


def test_extract_and_prepare_offline(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(ValueError, match="escapes"):
        extract(z, tmp_path / "out")
    with pytest.raises(ValueError, match="unsupported archive"):
        extract(tmp_path / "a.rar", tmp_path)
    with pytest.raises(ValueError, match="unknown dataset"):
        prepare("mnist", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare("shd", tmp_path, download=False)
