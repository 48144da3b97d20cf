"""Reader of the Heidelberg spiking data sets (SHD, SSC) in HDF5.

Format (Cramer, Stradmann, Schemmel & Zenke, "The Heidelberg Spiking Data Sets for the
Systematic Evaluation of Spiking Neural Networks", IEEE TNNLS 2020): ``spikes/times``
(variable-length float arrays, seconds), ``spikes/units`` (variable-length uint16 arrays,
0..699 cochlea channels) and ``labels`` (uint16), one row per sample; an ``extra`` group holds
metadata. SHD: 20 classes (digits 0-9 in English and German), train/test; SSC: 35 classes,
train/valid/test.

We return audio events ``(t, unit)`` with ``t`` in integer microseconds (``round(times * 1e6)``),
so the same integration rules as camera events apply. spikingjelly integrates SHD with float
time windows; splitting by number is identical, splitting by time can differ by < 1 µs per edge.
"""
from __future__ import annotations

import os

import numpy as np

from .events import make_audio_events, validate_audio_events

NUM_UNITS = 700


class SpikeH5File:
    """A validated, lazily read SHD/SSC file: ``len(f)``, ``f.events(i)``, ``f.labels``.

    Raises ``ValueError`` when a dataset is missing or the three have different lengths.
    """

    def __init__(self, path: str | os.PathLike, num_units: int = NUM_UNITS) -> None:
        import h5py

        self.path, self.num_units = os.fspath(path), num_units
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise ValueError(f"SpikeH5File: {self.path!r} is not a readable HDF5 file ({e})") from e
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in self._f:
                raise ValueError(f"SpikeH5File: {self.path!r} lacks the dataset {key!r} (got keys {list(self._f.keys())})")
        self._times, self._units = self._f["spikes/times"], self._f["spikes/units"]
        self.labels = np.asarray(self._f["labels"][()], dtype=np.int64)
        if not (len(self._times) == len(self._units) == len(self.labels)):
            raise ValueError(
                f"SpikeH5File: {self.path!r} has {len(self._times)} times, {len(self._units)} units and "
                f"{len(self.labels)} labels; they must match"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def events(self, index: int) -> np.ndarray:
        """Audio events of sample ``index`` (validated)."""
        times = np.asarray(self._times[index], dtype=np.float64)
        units = np.asarray(self._units[index])
        where = f"sample {index} of {self.path!r}"
        if times.shape != units.shape:
            raise ValueError(f"SpikeH5File: {where} has {times.size} times but {units.size} units")
        if not np.isfinite(times).all():
            raise ValueError(f"SpikeH5File: non-finite spike time in {where}")
        ev = make_audio_events(np.round(times * 1e6).astype(np.int64), units.astype(np.int32))
        return validate_audio_events(ev, self.num_units, "SpikeH5File.events", where)

    def close(self) -> None:
        self._f.close()

    def __getstate__(self):  # h5py handles do not pickle (DataLoader workers): reopen lazily
        return {"path": self.path, "num_units": self.num_units}

    def __setstate__(self, state):
        self.__init__(state["path"], state["num_units"])
