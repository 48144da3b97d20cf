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


# What h5py raises on a corrupt file, depending on which structure the damage hits.
_H5_ERRORS = (OSError, KeyError, RuntimeError, TypeError, IndexError, AttributeError)


class SpikeH5File:
    """A validated, lazily read SHD/SSC file: ``len(f)``, ``f.events(i)``, ``f.labels``.

    Raises ``ValueError`` when the file is not readable HDF5 (including a corrupt one: the errors
    h5py raises for damaged structures are re-raised as ``ValueError`` naming the file), a dataset
    is missing, is not 1-D, has a non-integer ``labels``/``units`` type, or the three have
    different lengths.
    """

    def __init__(self, path: str | os.PathLike, num_units: int = NUM_UNITS) -> None:
        import h5py

        self.path, self.num_units = os.fspath(path), num_units
        try:
            self._f = h5py.File(self.path, "r")
        except _H5_ERRORS as e:
            raise ValueError(f"SpikeH5File: {self.path!r} is not a readable HDF5 file ({e})") from e
        try:
            self._open_datasets(h5py)
        except _H5_ERRORS as e:
            self._f.close()
            raise ValueError(f"SpikeH5File: {self.path!r} is a corrupt HDF5 file ({type(e).__name__}: {e})") from e
        except ValueError:
            self._f.close()
            raise

    def _open_datasets(self, h5py) -> None:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in self._f or not isinstance(self._f[key], h5py.Dataset):
                raise ValueError(
                    f"SpikeH5File: {self.path!r} lacks the dataset {key!r} (got keys {list(self._f.keys())})"
                )
        self._times, self._units = self._f["spikes/times"], self._f["spikes/units"]
        labels = self._f["labels"]
        for key, ds in (("spikes/times", self._times), ("spikes/units", self._units), ("labels", labels)):
            if ds.ndim != 1:
                raise ValueError(
                    f"SpikeH5File: {key!r} of {self.path!r} must be 1-D, one row per sample (got shape {ds.shape})"
                )
        for key, ds in (("spikes/units", self._units), ("labels", labels)):
            base = h5py.check_vlen_dtype(ds.dtype) or ds.dtype
            if base.kind not in "iu":
                raise ValueError(f"SpikeH5File: {key!r} of {self.path!r} must hold integers (got dtype {base})")
        base = h5py.check_vlen_dtype(self._times.dtype) or self._times.dtype
        if base.kind not in "iuf":
            raise ValueError(f"SpikeH5File: 'spikes/times' of {self.path!r} must hold numbers (got dtype {base})")
        self.labels = np.asarray(labels[()], dtype=np.int64)
        if not (len(self._times) == len(self._units) == len(self.labels)):
            raise ValueError(
                f"SpikeH5File: {self.path!r} has {len(self._times)} times, {len(self._units)} units and "
                f"{len(self.labels)} labels; they must match"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def events(self, index: int) -> np.ndarray:
        """Audio events of sample ``index`` (validated)."""
        where = f"sample {index} of {self.path!r}"
        try:
            times = np.asarray(self._times[index], dtype=np.float64).reshape(-1)
            units = np.asarray(self._units[index]).reshape(-1)
        except _H5_ERRORS as e:
            raise ValueError(f"SpikeH5File: cannot read {where}: corrupt HDF5 data ({type(e).__name__}: {e})") from e
        if times.shape != units.shape:
            raise ValueError(f"SpikeH5File: {where} has {times.size} times but {units.size} units")
        if not np.isfinite(times).all():
            raise ValueError(f"SpikeH5File: non-finite spike time in {where}")
        if units.size and (units.min() < 0 or units.max() >= self.num_units):  # before the int32 cast can wrap
            raise ValueError(
                f"SpikeH5File: unit outside [0, {self.num_units}) in {where} (got [{units.min()}, {units.max()}])"
            )
        if times.size and times.max() * 1e6 >= 2.0**62:
            raise ValueError(f"SpikeH5File: spike time too large in {where} (got {times.max()} s)")
        ev = make_audio_events(np.round(times * 1e6).astype(np.int64), units.astype(np.int32))
        return validate_audio_events(ev, self.num_units, "SpikeH5File.events", where)

    def close(self) -> None:
        self._f.close()

    def __getstate__(self):  # h5py handles do not pickle (DataLoader workers): reopen lazily
        return {"path": self.path, "num_units": self.num_units}

    def __setstate__(self, state):
        self.__init__(state["path"], state["num_units"])
