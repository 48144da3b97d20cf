"""load_zinc_pt reads PyG-processed files weights-only: a file carrying code is refused, never executed."""

from __future__ import annotations

import os

import pytest
import torch

from graphnets.ckgconv import load_zinc_pt


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch zinc_pwned",))


def test_code_carrying_pt_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save((_Evil(), {}), tmp_path / "val.pt")
    with pytest.raises(ValueError, match="not a PyG processed file that loads weights-only"):
        load_zinc_pt(tmp_path / "val.pt")
    assert not (tmp_path / "zinc_pwned").exists()
