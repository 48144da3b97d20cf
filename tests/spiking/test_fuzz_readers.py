"""Fuzz tests of the event readers (ATIS ``.bin``, AEDAT 2.0, AEDAT 3.1 + gesture labels, SHD/SSC
HDF5): any byte string gives a valid result or a ``ValueError`` (see :mod:`tests.fuzz`).

Every accepted input is checked against an independent decoding written here with ``struct``
(not the readers' vectorised code), so a reader that silently drops or misreads part of a file
fails even when it raises nothing.
"""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spiking.datasets import (
    integrate_events,
    read_aedat2_header,
    read_aedat3,
    read_atis_bin,
    read_atis_frames,
    read_cifar10dvs,
    read_gesture_labels,
)
from spiking.datasets.spike_h5 import SpikeH5File
from tests.fuzz import fuzz, fuzz_settings, mutated, read_or_value_error, scratch_dir
from tests.spiking.formats import aedat3_header, aedat3_packet, polarity_payload, write_spike_h5

pytestmark = fuzz


# --- ATIS .bin ------------------------------------------------------------------------------
def _sorted_times(n: int, hi: int):
    return st.lists(st.integers(0, hi), min_size=n, max_size=n).map(sorted)


@st.composite
def atis_files(draw, W=34, H=34):
    n = draw(st.integers(1, 40))
    t = draw(_sorted_times(n, (1 << 23) - 1))
    x = draw(st.lists(st.integers(0, W - 1), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, H - 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return b"".join(
        bytes([xi, yi, (pi << 7) | (ti >> 16), (ti >> 8) & 0xFF, ti & 0xFF]) for ti, xi, yi, pi in zip(t, x, y, p)
    )


def _atis_reference(data: bytes) -> list[tuple[int, int, int, int]]:
    """(t, x, y, p) per 5-byte record, decoded one record at a time."""
    out = []
    for k in range(0, len(data), 5):
        b0, b1, b2, b3, b4 = data[k : k + 5]
        out.append(((b2 & 0x7F) << 16 | b3 << 8 | b4, b0, b1, b2 >> 7))
    return out


def _check_atis(data: bytes, T: int, split_by: str) -> None:
    with scratch_dir() as d:
        f = d / "sample.bin"
        f.write_bytes(data)
        ev = read_or_value_error(read_atis_bin, f)
        frames = read_or_value_error(read_atis_frames, f, T, split_by)
    if ev is None:
        return
    ref = _atis_reference(data)
    assert len(data) % 5 == 0 and len(ev) == len(ref) > 0  # nothing dropped
    assert list(zip(ev["t"].tolist(), ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist())) == ref
    if frames is not None:  # by-time framing may refuse a too-short recording; then both agree it is not framable
        assert frames.shape == (T, 2, 34, 34) and frames.sum() == len(ref)
        np.testing.assert_array_equal(frames, integrate_events(ev, T, (34, 34), split_by))
    else:
        assert split_by == "time"


_T = st.integers(1, 6)
_SPLIT = st.sampled_from(["number", "time"])


@fuzz_settings()
@given(st.binary(max_size=200), _T, _SPLIT)
def test_atis_arbitrary_bytes(data, T, split_by):
    _check_atis(data, T, split_by)


@fuzz_settings()
@given(st.one_of(atis_files(), mutated(atis_files())), _T, _SPLIT)
def test_atis_valid_and_mutated_files(data, T, split_by):
    _check_atis(data, T, split_by)


@fuzz_settings(0.3)
@given(atis_files())
def test_atis_valid_files_read_completely(data):
    with scratch_dir() as d:
        (d / "a.bin").write_bytes(data)
        ev = read_atis_bin(d / "a.bin")  # a valid file must never raise
    assert len(ev) == len(data) // 5


# --- AEDAT 2.0 (CIFAR10-DVS) ----------------------------------------------------------------
@st.composite
def aedat2_files(draw):
    n = draw(st.integers(1, 30))
    t = draw(_sorted_times(n, (1 << 32) - 1))
    x = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    comments = draw(st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20), max_size=3))
    header = b"#!AER-DAT2.0\r\n" + b"".join(b"# " + c.encode() + b"\r\n" for c in comments)
    body = b"".join(struct.pack(">II", (yi << 8) | (xi << 1) | pi, ti) for ti, xi, yi, pi in zip(t, x, y, p))
    return header + body


def _aedat2_reference(data: bytes):
    """Header = the first line and every following line that starts with '#'; then 8-byte (addr, t) pairs."""
    pos = data.index(b"\n") + 1 if b"\n" in data else len(data)
    while pos < len(data) and data[pos : pos + 1] == b"#":
        nl = data.find(b"\n", pos)
        pos = len(data) if nl < 0 else nl + 1
    body = data[pos:]
    out = []
    for k in range(0, len(body) - len(body) % 8, 8):
        a, t = struct.unpack(">II", body[k : k + 8])
        x, y, p = (a & 0xFE) >> 1, (a & 0x7F00) >> 8, a & 1
        out.append((t, 127 - y, 127 - x, 1 - p))
    return pos, len(body), out


def _check_aedat2(data: bytes) -> None:
    with scratch_dir() as d:
        f = d / "sample.aedat"
        f.write_bytes(data)
        header = read_or_value_error(read_aedat2_header, f)
        ev = read_or_value_error(read_cifar10dvs, f)
    if header is not None:
        assert header[1] == _aedat2_reference(data)[0]
    if ev is None:
        return
    assert header is not None
    _, body_len, ref = _aedat2_reference(data)
    assert body_len % 8 == 0 and len(ev) == len(ref) > 0  # a trailing partial event is an error, never dropped
    assert list(zip(ev["t"].tolist(), ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist())) == ref


@fuzz_settings()
@given(st.one_of(st.binary(max_size=120), st.binary(max_size=120).map(lambda b: b"#!AER-DAT2.0\r\n" + b)))
def test_aedat2_arbitrary_bytes(data):
    _check_aedat2(data)


@fuzz_settings()
@given(st.one_of(aedat2_files(), mutated(aedat2_files())))
def test_aedat2_valid_and_mutated_files(data):
    _check_aedat2(data)


# --- AEDAT 3.1 (DVS128 Gesture) -------------------------------------------------------------
@st.composite
def aedat3_files(draw):
    packets = []
    t0 = 0
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([1, 1, 0, 2]))
        if kind != 1:  # special / frame packets: skipped by the reader
            size = draw(st.integers(1, 12))
            cap = draw(st.integers(0, 3))
            packets.append(aedat3_packet(kind, draw(st.binary(min_size=size * cap, max_size=size * cap)), size, cap))
            continue
        n = draw(st.integers(1, 12))
        t = [t0 + v for v in draw(_sorted_times(n, 1000))]
        t0 = t[-1]
        x = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
        y = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
        p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
        packets.append(aedat3_packet(1, polarity_payload(t, x, y, p), 8, n))
    return aedat3_header() + b"".join(packets)


def _aedat3_reference(data: bytes):
    """Events of every complete type-1 packet after '#!END-HEADER', or None when the packet walk fails."""
    end = data.find(b"#!END-HEADER")
    nl = data.find(b"\n", end) if end >= 0 else -1
    if not data.startswith(b"#!AER-DAT3.1") or nl < 0:
        return None
    pos, out = nl + 1, []
    while pos < len(data):
        if pos + 28 > len(data):
            return None
        kind, _, size, _, overflow, cap, num, _ = struct.unpack("<hhiiiiii", data[pos : pos + 28])
        pos += 28
        if size <= 0 or cap < 0 or not 0 <= num <= cap or pos + size * cap > len(data):
            return None
        if kind == 1:
            if size != 8:
                return None
            for k in range(cap):
                d, ts = struct.unpack("<Ii", data[pos + 8 * k : pos + 8 * k + 8])
                out.append((ts | (overflow << 31), (d >> 17) & 0x7FFF, (d >> 2) & 0x7FFF, (d >> 1) & 1))
        pos += size * cap
    return out


def _check_aedat3(data: bytes) -> None:
    with scratch_dir() as d:
        f = d / "user01_fluorescent.aedat"
        f.write_bytes(data)
        ev = read_or_value_error(read_aedat3, f)
    if ev is None:
        return
    ref = _aedat3_reference(data)
    assert ref is not None and len(ev) == len(ref) > 0
    assert list(zip(ev["t"].tolist(), ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist())) == ref


@fuzz_settings()
@given(st.one_of(st.binary(max_size=120), st.binary(max_size=120).map(lambda b: aedat3_header() + b)))
def test_aedat3_arbitrary_bytes(data):
    _check_aedat3(data)


@fuzz_settings()
@given(st.one_of(aedat3_files(), mutated(aedat3_files())))
def test_aedat3_valid_and_mutated_files(data):
    _check_aedat3(data)


@fuzz_settings(0.5)
@given(
    st.one_of(
        st.binary(max_size=80),
        st.lists(st.tuples(st.integers(-2, 13), st.integers(0, 99), st.integers(0, 99)), max_size=4).map(
            lambda rows: (
                "class,startTime_usec,endTime_usec\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows)
            ).encode()
        ),
        mutated(st.just(b"class,startTime_usec,endTime_usec\n1,0,10\n11,10,20\n")),
    )
)
def test_gesture_labels(data):
    with scratch_dir() as d:
        f = d / "user01_fluorescent_labels.csv"
        f.write_bytes(data)
        lab = read_or_value_error(read_gesture_labels, f)
    if lab is not None:
        assert lab.ndim == 2 and lab.shape[1] == 3 and len(lab) >= 1
        assert ((lab[:, 0] >= 1) & (lab[:, 0] <= 11) & (lab[:, 1] < lab[:, 2])).all()
        lines = [ln for ln in data.decode().splitlines()[1:] if ln.strip()]
        assert len(lab) == len(lines)  # every row read


# --- SHD / SSC HDF5 -------------------------------------------------------------------------
@st.composite
def h5_samples(draw):
    samples = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, 6))
        t = sorted(draw(st.lists(st.floats(0, 1.5, width=32), min_size=n, max_size=n)))
        u = draw(st.lists(st.integers(0, 699), min_size=n, max_size=n))
        samples.append((np.asarray(t, np.float32), np.asarray(u, np.uint16)))
    labels = draw(st.lists(st.integers(0, 19), min_size=len(samples), max_size=len(samples)))
    return samples, labels


def _h5_bytes(samples, labels) -> bytes:
    with scratch_dir() as d:
        write_spike_h5(d / "x.h5", samples, labels)
        return (d / "x.h5").read_bytes()


def _check_h5(data: bytes, expect=None) -> None:
    with scratch_dir() as d:
        f = d / "shd_train.h5"
        f.write_bytes(data)
        h5 = read_or_value_error(SpikeH5File, f)
        if h5 is None:
            assert expect is None
            return
        try:
            events = [read_or_value_error(h5.events, i) for i in range(len(h5))]
        finally:
            h5.close()
    if expect is not None:
        samples, labels = expect
        assert h5.labels.tolist() == labels
        for ev, (t, u) in zip(events, samples):
            if len(t) == 0:
                assert ev is None  # an empty recording is refused, never returned as data
                continue
            assert ev["t"].tolist() == np.round(t.astype(np.float64) * 1e6).astype(np.int64).tolist()
            assert ev["unit"].tolist() == u.tolist()


@fuzz_settings(0.5)
@given(h5_samples())
def test_h5_valid_files(case):
    samples, labels = case
    _check_h5(_h5_bytes(samples, labels), case)


@fuzz_settings(0.5)
@given(st.one_of(st.binary(max_size=64), mutated(h5_samples().map(lambda c: _h5_bytes(*c)), max_edits=3)))
def test_h5_arbitrary_and_mutated_bytes(data):
    _check_h5(data)
