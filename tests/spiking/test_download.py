"""The neuromorphic download table and prepare() (offline: no network used)."""

from __future__ import annotations

import re

import pytest

from spiking.datasets.download import RESOURCES, prepare


def test_resource_table():
    assert set(RESOURCES) == {"nmnist", "ncaltech101", "dvs128gesture", "cifar10dvs", "shd", "ssc"}
    for res in (r for rs in RESOURCES.values() for r in rs):
        assert re.fullmatch(r"[0-9a-f]{32}", res.md5) and res.url.startswith("https://")
    assert len(RESOURCES["cifar10dvs"]) == 10 and len({r.md5 for r in RESOURCES["ssc"] + RESOURCES["shd"]}) == 5


def test_prepare_offline_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        prepare("mnist", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare("shd", tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match="must be downloaded by hand from https://ibm.ent.box.com"):
        prepare("dvs128gesture", tmp_path)
