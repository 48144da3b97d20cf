"""cuda_ext._build / ``python -m cuda_ext``: loading never compiles, refuses foreign architectures and says why;
building without a toolkit is skipped unless ``--require`` (no compile here)."""

from __future__ import annotations

import json

import pytest
import torch

from cuda_ext import _build
from cuda_ext.__main__ import main


@pytest.fixture
def empty_build_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHSPIKE_BUILD_DIR", str(tmp_path))
    return tmp_path


def test_build_dir_honours_env(empty_build_dir):
    assert _build.build_dir() == empty_build_dir


def test_sources_are_the_binding_file_and_every_cu():
    names = [p.name for p in _build.sources()]
    assert names[0] == "bindings.cpp"
    assert {"lif.cu", "spmm.cu", "gather.cu"} <= set(names)
    assert all(p.is_file() for p in _build.sources())


def test_load_without_build_returns_reason(empty_build_dir):
    module, reason = _build.load()
    assert module is None
    if torch.version.cuda is None:
        assert "CPU-only" in reason
    else:
        assert "not built" in reason and "python -m cuda_ext build" in reason


@pytest.mark.skipif(torch.version.cuda is None, reason="stamp checks run only with a CUDA build of torch")
def test_load_rejects_stale_or_broken_stamp(empty_build_dir):
    stale = {"path": "/nonexistent.so", "fingerprint": "old", "arch_list": "9.0"}
    (empty_build_dir / "graphspike_build.json").write_text(json.dumps(stale))
    module, reason = _build.load()
    assert module is None and "stale" in reason
    (empty_build_dir / "graphspike_build.json").write_text("{not json")
    module, reason = _build.load()
    assert module is None and "unreadable" in reason


def test_info_command_prints_every_op(empty_build_dir, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for op in ("spmm", "lif_multistep", "gather_rows"):
        assert op in out
    assert "extension:" in out


def test_build_command_requires_subcommand():
    with pytest.raises(SystemExit):
        main([])


# ----------------------------------------------------------------------------- architectures
@pytest.mark.parametrize(
    "arch_list,capability,runs",
    [
        ("9.0", (9, 0), True),
        ("9.0", (8, 0), False),  # an sm_90 build on an A100
        ("9.0", (10, 0), False),  # ... or on a B200
        ("8.0", (8, 6), True),  # SASS runs on later minors of the same major
        ("8.6", (8, 0), False),
        ("9.0a", (9, 0), True),
        ("8.0;9.0a", (10, 0), False),
        ("9.0+PTX", (10, 0), True),  # PTX is compiled by the driver for newer GPUs
        ("9.0+PTX", (8, 9), False),
        ("8.0 9.0", (9, 0), True),
    ],
)
def test_arch_runs_on(arch_list, capability, runs):
    assert _build.arch_runs_on(arch_list, capability) is runs


@pytest.mark.parametrize("bad", ["", "sm_90", "9", "9.0b", "9.0+ptx"])
def test_parse_arch_list_rejects_malformed(bad):
    with pytest.raises(ValueError, match=r"cuda_ext build: (empty architecture list|architectures look like)"):
        _build.parse_arch_list(bad)


def _fake_gpus(monkeypatch, gpus):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: bool(gpus))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(gpus))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: gpus[i][0])
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: gpus[i][1])


def _fake_build(build_dir, arch_list):
    so = build_dir / "graphspike_cuda_fake.so"
    so.write_bytes(b"not a shared object")
    (build_dir / "graphspike_build.json").write_text(
        json.dumps({"path": str(so), "fingerprint": _build._fingerprint(), "arch_list": arch_list})
    )


@pytest.mark.skipif(torch.version.cuda is None, reason="stamp checks run only with a CUDA build of torch")
def test_load_refuses_a_build_for_another_gpu_architecture(empty_build_dir, monkeypatch):
    _fake_build(empty_build_dir, "9.0")
    _fake_gpus(monkeypatch, [("NVIDIA A100-SXM4-80GB", (8, 0))])
    module, reason = _build.load()
    assert module is None
    assert "cannot run on NVIDIA A100-SXM4-80GB (compute capability 8.0)" in reason
    assert "--arch 8.0" in reason
    # the same build passes the architecture check on an H200 (then fails to import the fake file)
    _fake_gpus(monkeypatch, [("NVIDIA H200", (9, 0))])
    module, reason = _build.load()
    assert module is None and "failed to import" in reason
    # one unsupported GPU among several is enough to refuse
    _fake_gpus(monkeypatch, [("NVIDIA H200", (9, 0)), ("NVIDIA B200", (10, 0))])
    assert "NVIDIA B200" in _build.load()[1]


@pytest.mark.skipif(torch.version.cuda is None, reason="stamp checks run only with a CUDA build of torch")
def test_arch_mismatch_falls_back_with_one_warning(empty_build_dir, monkeypatch):
    import warnings

    from cuda_ext import _backend

    _fake_build(empty_build_dir, "9.0")
    _fake_gpus(monkeypatch, [("NVIDIA A100-SXM4-80GB", (8, 0))])
    _backend.reset_extension_cache()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for op in ("spmm", "gather_rows", "spmm", "lif_multistep"):
                assert _backend.resolve_backend(op, "auto", torch.device("cuda")) == "torch"
        assert len(caught) == 1
        assert "compute capability 8.0" in str(caught[0].message)
        with pytest.raises(RuntimeError, match="compute capability 8.0"):
            _backend.resolve_backend("spmm", "cuda", torch.device("cuda"))
    finally:
        _backend.reset_extension_cache()


def test_default_arch_follows_visible_gpus(monkeypatch):
    _fake_gpus(monkeypatch, [])
    assert _build._default_arch() == "9.0"
    _fake_gpus(monkeypatch, [("a", (9, 0)), ("b", (8, 6)), ("c", (9, 0))])
    assert _build._default_arch() == "8.6;9.0"


# ----------------------------------------------------------------------------- no toolkit
def _run_build(extra_args, env_updates):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ)
    env.update(env_updates)
    repo = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(repo)
    return subprocess.run(
        [sys.executable, "-m", "cuda_ext", "build", "--quiet", *extra_args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=repo,
    )


@pytest.fixture
def no_nvcc_env(tmp_path):
    import os
    import sys

    # PATH holds only the interpreter's folder and the system folders, CUDA_HOME names a
    # folder without a toolkit and CXX a compiler that does not exist: what a machine without
    # the CUDA toolkit and without a C++ compiler looks like (nothing is compiled).
    return {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
        "CUDA_HOME": str(tmp_path / "no-cuda"),
        "CXX": "no-such-c++-compiler",
        "GRAPHSPIKE_BUILD_DIR": str(tmp_path / "build"),
    }


def test_build_without_nvcc_is_skipped_and_exits_zero(no_nvcc_env):
    result = _run_build([], no_nvcc_env)
    assert result.returncode == 0, result.stderr
    expected = "skipped: torch is a CPU-only build" if torch.version.cuda is None else "skipped: nvcc not found"
    assert expected in result.stdout
    assert "CPU kernels skipped: no C++ compiler" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 2, result.stdout  # a line per part, nothing compiled
    assert "Traceback" not in result.stderr and "No CUDA runtime" not in result.stderr, result.stderr


def test_build_without_nvcc_fails_with_require(no_nvcc_env):
    result = _run_build(["--require"], no_nvcc_env)
    assert result.returncode == 1
    assert "FAILED (--require)" in result.stderr
    assert ("nvcc not found" in result.stderr) or torch.version.cuda is None
    assert "CPU kernels: no C++ compiler" in result.stderr  # both parts report


def test_build_with_cpu_only_torch_is_skipped(monkeypatch, capsys):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setenv("CXX", "no-such-c++-compiler")  # the CPU part is tested in test_build_cpu.py
    assert main(["build", "--quiet"]) == 0
    assert "skipped: torch is a CPU-only build" in capsys.readouterr().out
    assert main(["build", "--quiet", "--require"]) == 1


def test_ci_runs_the_readme_test_command_with_require():
    """README's test command skips the build without nvcc; .ci/run (CI has nvcc) runs the same line
    with --require, so a kernel that does not compile fails CI instead of being skipped."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]

    def command(text: str) -> str:
        lines = [
            line.strip()
            for line in text.splitlines()
            if "python -m cuda_ext build" in line and "pytest" in line and not line.lstrip().startswith("#")
        ]
        assert len(lines) == 1, lines
        return lines[0]

    readme = command((repo / "README.md").read_text())
    ci = command((repo / ".ci" / "run").read_text())
    assert "--require" not in readme
    assert ci == readme.replace("python -m cuda_ext build", "python -m cuda_ext build --require")
