"""fetch_zinc_raw lays out PyG's raw ZINC folder from the archive and index files (fake network)."""

from __future__ import annotations

import io
import zipfile

import pytest

from graphnets.ckgconv.zinc_download import ZINC_RAW_FILES, fetch_zinc_raw


def _fake_opener(files: dict[str, bytes]):
    def opener(request, timeout=None):
        name = request.full_url.rsplit("/", 1)[1].split("?")[0]
        resp = io.BytesIO(files[name])
        resp.status = 200
        resp.getcode = lambda: 200
        return resp

    return opener


def test_layout_and_no_refetch(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for split in ("train", "val", "test"):
            z.writestr(f"molecules/{split}.pickle", f"{split}-mols")
    files = {"molecules.zip": buf.getvalue(), **{f"{s}.index": f"0,1,{s}".encode() for s in ("train", "val", "test")}}
    with pytest.warns(UserWarning, match="no checksum is known"):
        raw = fetch_zinc_raw(tmp_path, opener=_fake_opener(files))
    assert raw == tmp_path / "raw" and sorted(p.name for p in raw.iterdir()) == sorted(ZINC_RAW_FILES)
    assert (raw / "val.pickle").read_text() == "val-mols" and (raw / "test.index").read_text() == "0,1,test"
    assert fetch_zinc_raw(tmp_path, opener=None) == raw  # complete: no network
