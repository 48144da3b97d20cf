"""Style is checked by the test command: ``ruff check`` (the rule set in pyproject.toml) and ``ruff format --check``.

Skipped only when ruff is not installed (it is in the ``test`` extra, so CI and the README's test
command always run it).
"""

import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO


def ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff")
    command = [exe] if exe else [sys.executable, "-m", "ruff"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=REPO, timeout=300, check=False)


@pytest.fixture(scope="module", autouse=True)
def _ruff_installed():
    if ruff("--version").returncode != 0:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")


def test_lint():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, f"ruff check found problems (`ruff check --fix .` fixes some):\n{result.stdout}"


def test_format():
    result = ruff("format", "--no-cache", "--check", ".")
    assert result.returncode == 0, f"files not formatted as `ruff format .` writes them:\n{result.stdout}"
