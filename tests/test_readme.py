"""The README's Python snippets run as written, in order, in one namespace (as a reader pastes them)."""

import re

import pytest

from tests.helpers import REPO

FIELDS = ("Train a recommender", "Train a node classifier", "Train a spiking network on events", "Estimate energy")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_readme_has_a_python_snippet_for_each_field():
    text = (REPO / "README.md").read_text()
    blocks = python_blocks(text)
    assert len(blocks) >= len(FIELDS)
    for title in FIELDS:  # each field's title is followed by its snippet (the next fenced block)
        m = re.search(rf"\*\*{title}\*\*.*?^```(\w*)$", text, flags=re.DOTALL | re.MULTILINE)
        assert m and m.group(1) == "python", f"README: no python snippet after '{title}'"


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # anything a snippet writes lands here
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(python_blocks((REPO / "README.md").read_text())):
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "recall@20" in out and "ndcg@20" in out  # the recommender's evaluation
    assert "SNN/ANN energy" in out  # the energy table with the ANN twin
    report = namespace["report"]
    assert 0 < report.energy_mJ < report.ann.energy_mJ  # a sparse SNN costs less than its ReLU twin
    assert 0.0 <= namespace["result"].test_acc <= 1.0
