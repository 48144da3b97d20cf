r"""Unpickling third-party data files without running code from them.

``pickle.load`` calls whatever callable a file names (``os.system``, ``subprocess.run``, ...), so a
tampered download of a pickled data set can run code on the reader's machine. Some public data sets
exist only as pickles (the Planetoid ``ind.*`` files, CIFAR-10's python batches); graphspike reads
them with :func:`restricted_load`, an unpickler that resolves only the globals the format needs
(the "restricting globals" recipe of the :mod:`pickle` documentation) and refuses any other with
:class:`UnsafePickleError`, before anything is called.

The allowed names are mapped to objects here, so no module named by the file is imported (old
pickles name ``numpy.core.multiarray`` and ``scipy.sparse.csr``; numpy 2 and scipy >= 1.8 moved
them). numpy's and scipy's names map to stand-ins that only record what the file passes: numpy's
own unpickling trusts the array and dtype state it is given, and damaged state crashed the
interpreter in the fuzz tests. After unpickling, each array is built by ``np.frombuffer`` from
checked pieces (a boolean/integer/float dtype, a shape, exactly that many bytes; object arrays are
refused) and each CSR matrix from checked arrays (``check_format(full_check=True)``). A reader must
still check what it got (types, shapes, value ranges) before using it.
"""

from __future__ import annotations

import collections
import copyreg
import math
import pickle
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

__all__ = [
    "CORRUPT_PICKLE_ERRORS",
    "NUMPY_ARRAY_GLOBALS",
    "PYTHON2_CONTAINER_GLOBALS",
    "SCIPY_CSR_GLOBALS",
    "PickleDataError",
    "UnsafePickleError",
    "restricted_load",
]


# What pickle.load raises on a corrupt or truncated file (besides UnsafePickleError and PickleDataError,
# which a reader re-raises as they are): readers catch these and raise one ValueError naming the file.
CORRUPT_PICKLE_ERRORS: tuple[type[BaseException], ...] = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    MemoryError,
    OverflowError,
    RecursionError,
)


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle names a global outside the reader's allow-list (it could run code when unpickled)."""


class PickleDataError(ValueError):
    """A pickle's arrays or matrices are malformed (wrong sizes, unsupported dtype, out-of-range indices)."""


class _BadState(ValueError):
    """A numpy or scipy stand-in got a state no numpy/scipy writer produces."""


# numpy's own unpickling (ndarray.__setstate__, dtype.__setstate__) trusts its input: damaged state
# crashes the interpreter (found by the fuzz tests). So the file's numpy and scipy names resolve to
# the stand-ins below, which only record what the file passes; the arrays are then built from
# checked pieces (a plain numeric dtype, a shape, exactly that many bytes) by np.frombuffer.
_DTYPES = frozenset(
    f"{k}{n}" for k, ns in (("b", (1,)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("f", (2, 4, 8))) for n in ns
)


class _DType:
    """Stand-in for ``numpy.dtype(spec, align, copy)`` + ``__setstate__``: a plain numeric dtype only."""

    def __init__(self, spec: Any = None, align: Any = False, copy: Any = False) -> None:
        if not isinstance(spec, str) or spec not in _DTYPES:
            raise _BadState(f"an array of dtype {spec!r:.40} (only booleans, integers and floats are read)")
        self.spec, self.byteorder = spec, "|" if spec[1] == "1" else "="

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) >= 3 and state[1] in ("<", ">", "|", "=") and state[2] is None):
            raise _BadState(f"a dtype state {state!r:.60}")
        self.byteorder = state[1]

    def build(self) -> np.dtype:
        return np.dtype(self.spec if self.byteorder == "|" else self.byteorder + self.spec)


class _NDArrayType:
    """Stand-in for the ``numpy.ndarray`` class (the subtype argument of ``_reconstruct``)."""


class _Array:
    """Stand-in for an array: ``_reconstruct(ndarray, shape, dtype)`` + ``__setstate__`` (protocols 0-4)
    or ``_frombuffer(data, dtype, shape, order)`` (protocol 5)."""

    def __init__(self, *args: Any) -> None:
        if args:
            raise _BadState("numpy.ndarray called with arguments")
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]  # (version, shape, dtype, is_fortran, data)
        if not (isinstance(state, tuple) and len(state) == 4):
            raise _BadState(f"an array state {state!r:.60}")
        self.state = state

    def build(self) -> np.ndarray:
        if self.state is None:
            raise _BadState("an array without data")
        shape, dtype, fortran, data = self.state
        if not isinstance(dtype, _DType):
            raise _BadState(f"an array whose dtype is {type(dtype).__name__}")
        if isinstance(data, str):  # a Python 2 byte string read with encoding="latin1"
            data = data.encode("latin1")
        if not isinstance(data, (bytes, bytearray)):
            raise _BadState(f"array data of type {type(data).__name__} (object arrays are not read)")
        if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)):
            raise _BadState(f"an array shape {shape!r:.60}")
        dt = dtype.build()
        if math.prod(shape) * dt.itemsize != len(data):
            raise _BadState(f"an array of shape {shape} and dtype {dt} with {len(data)} bytes of data")
        arr = np.frombuffer(bytes(data), dtype=dt).reshape(shape, order="F" if fortran else "C")
        return arr.astype(dt.newbyteorder("="), copy=True)  # native byte order, writeable


def _reconstruct(subtype: Any = None, shape: Any = None, dtype: Any = None) -> _Array:
    if subtype is not _NDArrayType:
        raise _BadState(f"numpy _reconstruct of {subtype!r:.40} (only numpy.ndarray is read)")
    return _Array()


def _frombuffer(data: Any = None, dtype: Any = None, shape: Any = None, order: Any = "C") -> _Array:
    arr = _Array()
    arr.state = (shape, dtype, order == "F", data)
    return arr


def _latin1(text: Any = None, encoding: Any = None) -> bytes:
    """``_codecs.encode(text, "latin1")``: how protocols 0-2 write a byte string."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _BadState(f"_codecs.encode of {type(text).__name__} to {encoding!r:.20}")
    return text.encode("latin1")


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``: how protocols 0-2 write an empty byte string (an empty array's data)."""
    if args:
        raise _BadState("bytes() called with arguments")
    return b""


class _CSRMatrix:
    """Stand-in for ``scipy.sparse.csr_matrix``: records ``data``/``indices``/``indptr``/``_shape``."""

    def __init__(self, *args: Any) -> None:
        if args:
            raise _BadState("csr_matrix called with arguments")
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise _BadState(f"a csr_matrix state of type {type(state).__name__}")
        self.state = state

    def build(self, fn: str, what: str):
        import scipy.sparse as sp

        st = self.state if isinstance(self.state, dict) else {}
        parts = [_materialize(st.get(k), fn, what, {}) for k in ("data", "indices", "indptr")]
        shape = st.get("_shape", st.get("shape"))
        if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in parts) or not (
            isinstance(shape, tuple) and len(shape) == 2 and all(type(d) is int and d >= 0 for d in shape)
        ):
            raise _BadState(f"a csr_matrix without 1-D data/indices/indptr and a 2-D shape (got {shape!r:.40})")
        data, indices, indptr = parts
        if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
            raise _BadState(f"csr_matrix indices of dtype {indices.dtype}/{indptr.dtype}")
        m = sp.csr_matrix(shape, dtype=data.dtype)  # empty, then the checked arrays
        m.data, m.indices, m.indptr = data, indices, indptr
        m.check_format(full_check=True)  # lengths, monotone indptr, indices inside the shape
        return m


def _materialize(obj: Any, fn: str, what: str, seen: dict[int, Any]) -> Any:
    """``obj`` with every stand-in replaced by the real array / matrix (containers updated in place)."""
    if isinstance(obj, (_Array, _DType, _CSRMatrix)):
        try:
            if isinstance(obj, _Array):
                return obj.build()
            if isinstance(obj, _CSRMatrix):
                return obj.build(fn, what)
            return obj.build()
        except _BadState as err:
            raise PickleDataError(f"{fn}: {what} holds {err}") from None
        except ValueError as err:  # scipy's check_format
            raise PickleDataError(f"{fn}: {what} holds an inconsistent array or matrix ({err})") from None
    if id(obj) in seen:
        return seen[id(obj)]
    if isinstance(obj, list):
        seen[id(obj)] = obj
        obj[:] = [_materialize(v, fn, what, seen) for v in obj]
    elif isinstance(obj, dict):
        seen[id(obj)] = obj
        for k in list(obj):
            if isinstance(k, (_Array, _DType, _CSRMatrix)):
                raise PickleDataError(f"{fn}: {what} holds an array as a dict key")
            obj[k] = _materialize(obj[k], fn, what, seen)
    elif isinstance(obj, tuple):
        seen[id(obj)] = obj
        out = tuple(_materialize(v, fn, what, seen) for v in obj)
        seen[id(obj)] = out
        return out
    elif isinstance(obj, (set, frozenset)) and any(isinstance(v, (_Array, _DType, _CSRMatrix)) for v in obj):
        raise PickleDataError(f"{fn}: {what} holds an array inside a set")
    return obj


# What a pickled numpy array names, under protocols 0-5, written by numpy 1.x or 2.x (``_reconstruct``
# + ``__setstate__`` up to protocol 4, ``_frombuffer`` under 5), and how protocols 0-2 write bytes.
NUMPY_ARRAY_GLOBALS: Mapping[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _NDArrayType,
    ("numpy", "dtype"): _DType,
    ("_codecs", "encode"): _latin1,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}

# ``scipy.sparse.csr_matrix`` under its module paths before and after scipy 1.8.
SCIPY_CSR_GLOBALS: Mapping[tuple[str, str], Any] = {
    ("scipy.sparse.csr", "csr_matrix"): _CSRMatrix,
    ("scipy.sparse._csr", "csr_matrix"): _CSRMatrix,
}

# Python 2 and 3 spellings of the containers a pickle may rebuild by calling their class (``dict``
# and ``list`` literals need no global), and ``copy_reg._reconstructor`` which protocols 0 and 1 use
# to rebuild instances of plain classes (it calls only the classes it is given, which must be allowed).
PYTHON2_CONTAINER_GLOBALS: Mapping[tuple[str, str], Any] = {
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
    ("__builtin__", "dict"): dict,
    ("builtins", "dict"): dict,
    ("__builtin__", "set"): set,
    ("builtins", "set"): set,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("collections", "defaultdict"): collections.defaultdict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], allowed: Mapping[tuple[str, str], Any], fn: str, what: str, **kwargs: Any):
        super().__init__(file, **kwargs)
        self._allowed, self._fn, self._what = allowed, fn, what

    def find_class(self, module: str, name: str) -> Any:
        # Overriding find_class bypasses pickle's own import (and its Python-2 name mapping): the
        # file's names are looked up only in the allow-list.
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._fn}: refusing to load {module}.{name} from {self._what} (such a file holds only "
                f"{', '.join(sorted({f'{m}.{n}' for m, n in self._allowed}))}; unpickling anything else "
                "could run code from the file)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._fn}: {self._what} uses a persistent id (got {pid!r}); a data file has none")


def restricted_load(
    file: IO[bytes], allowed: Mapping[tuple[str, str], Any], fn: str, what: str, encoding: str = "ASCII"
) -> Any:
    """Unpickle ``file`` resolving only the ``(module, name)`` globals in ``allowed`` (to the mapped objects).

    Args:
        file: a binary file object (``open(path, "rb")``, ``io.BytesIO``).
        allowed: ``{(module, name): object}``, e.g. ``{**NUMPY_ARRAY_GLOBALS, **PYTHON2_CONTAINER_GLOBALS}``.
        fn: the public function reading the file, named in errors (``"load_planetoid"``).
        what: the file, named in errors (``"ind.cora.x"``).
        encoding: how Python 2 byte strings are decoded (``"latin1"`` for numpy arrays, ``"bytes"`` to keep them).

    Raises:
        UnsafePickleError: (a ``pickle.UnpicklingError`` and a ``ValueError``) the file names a global
            outside ``allowed``, or a persistent id; nothing it names has been called.
        PickleDataError: (a ``ValueError``) an array or CSR matrix in the file is malformed: a dtype
            other than boolean/integer/float, data that does not fill its shape, indices outside it.
        pickle.UnpicklingError, EOFError, ...: a corrupt file, as :func:`pickle.load` raises them
            (:data:`CORRUPT_PICKLE_ERRORS`).
    """
    try:
        obj = _RestrictedUnpickler(file, allowed, fn, what, encoding=encoding).load()
    except _BadState as err:
        raise PickleDataError(f"{fn}: {what} holds {err}") from None
    return _materialize(obj, fn, what, {})
