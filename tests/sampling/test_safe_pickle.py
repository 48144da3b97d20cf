"""restricted_load: only allow-listed globals resolve; nothing a file names is imported or called otherwise."""

import io
import pickle
import warnings

import numpy as np
import pytest

from sampling.safe_pickle import (
    NUMPY_ARRAY_GLOBALS,
    PYTHON2_CONTAINER_GLOBALS,
    PickleDataError,
    UnsafePickleError,
    restricted_load,
)


def _load(data: bytes, allowed=NUMPY_ARRAY_GLOBALS, encoding="ASCII"):
    return restricted_load(io.BytesIO(data), allowed, "reader", "f.pkl", encoding=encoding)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_numpy_arrays_round_trip_under_every_protocol(protocol):
    arrays = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.asfortranarray(np.eye(3)),
        np.array([], np.int64),
        np.array([True, False]),
        np.arange(4, dtype=">u2"),
        np.array(2.5),
    ]
    got = _load(pickle.dumps(arrays, protocol=protocol))
    for a, b in zip(arrays, got):
        assert a.shape == b.shape and a.dtype.newbyteorder("=") == b.dtype and np.array_equal(a, b)
        assert b.flags.writeable and b.dtype.isnative


def test_numpy_1x_names_resolve_without_importing_numpy_core():
    data = pickle.dumps(np.arange(3), protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy 2 warns when numpy.core is imported
        assert _load(data).tolist() == [0, 1, 2]


class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


@pytest.mark.parametrize("fn", [eval, exec, print, __import__, pickle.loads])
def test_any_other_global_is_refused_before_it_is_called(fn, capsys):
    data = pickle.dumps([np.zeros(1), _Call(fn, "print('ran')")], protocol=2)
    with pytest.raises(UnsafePickleError, match=rf"reader: refusing to load \w+\.{fn.__name__} from f\.pkl") as err:
        _load(data)
    assert isinstance(err.value, pickle.UnpicklingError) and isinstance(err.value, ValueError)
    assert "numpy.ndarray" in str(err.value)  # what such a file may hold
    assert capsys.readouterr().out == ""


def test_containers_only_when_allowed_and_no_persistent_ids():
    from collections import defaultdict

    data = pickle.dumps(defaultdict(list, {1: [2]}), protocol=2)
    with pytest.raises(UnsafePickleError, match="collections.defaultdict"):
        _load(data)
    assert _load(data, {**NUMPY_ARRAY_GLOBALS, **PYTHON2_CONTAINER_GLOBALS}) == {1: [2]}

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "ext" if obj == "x" else None

    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(["x"])
    with pytest.raises(UnsafePickleError, match="persistent id"):
        _load(buf.getvalue())


@pytest.mark.parametrize(
    "array", [np.array([b"ab"]), np.array([1, "a"], dtype=object), np.zeros(2, "c16"), np.zeros(2, [("a", "i4")])]
)
def test_only_plain_numeric_arrays_are_built(array):
    with pytest.raises(PickleDataError, match="holds an array of dtype"):
        _load(pickle.dumps(array, protocol=2))


def test_damaged_array_state_is_a_value_error_not_a_crash():
    """numpy's own ndarray/dtype __setstate__ crashed the interpreter on such edits (fuzz test);
    the stand-ins check the pieces and np.frombuffer builds the array."""
    good = pickle.dumps(np.arange(6, dtype=np.int32).reshape(2, 3), protocol=2)
    for bad in (
        good.replace(b"K\x02K\x03\x86", b"K\x09K\x03\x86"),  # shape [9, 3] for 6 values
        good.replace(b"X\x01\x00\x00\x00<", b"X\x01\x00\x00\x00?"),
    ):  # byte order '?'
        assert bad != good
        with pytest.raises(PickleDataError, match=r"reader: f\.pkl holds an? (array|dtype)"):
            _load(bad)
