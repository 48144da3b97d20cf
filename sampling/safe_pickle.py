r"""Unpickling third-party data files without running code from them.

``pickle.load`` calls whatever callable a file names (``os.system``, ``subprocess.run``, ...), so a
tampered download of a pickled data set can run code on the reader's machine. Some public data sets
exist only as pickles (the Planetoid ``ind.*`` files, CIFAR-10's python batches); graphspike reads
them with :func:`restricted_load`, an unpickler that resolves only the globals the format needs
(the "restricting globals" recipe of the :mod:`pickle` documentation) and refuses any other with
:class:`UnsafePickleError`, before anything is called.

The allowed names are mapped to live objects here, so no module named by the file is imported
(old pickles name ``numpy.core.multiarray`` and ``scipy.sparse.csr``; numpy 2 and scipy >= 1.8
moved them). Even an allowed class only builds data (arrays, containers, a sparse matrix); a reader
must still check what it got (type, dtype, shape, index ranges) before using it.
"""
from __future__ import annotations

import codecs
import collections
import copyreg
import pickle
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

__all__ = ["NUMPY_ARRAY_GLOBALS", "PYTHON2_CONTAINER_GLOBALS", "UnsafePickleError", "restricted_load"]


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle names a global outside the reader's allow-list (it could run code when unpickled)."""


_array = np.zeros(1)
# What a pickled numpy array names, under protocols 0-5, written by numpy 1.x or 2.x: the array is
# rebuilt by ``_reconstruct`` + ``ndarray.__setstate__`` (protocols 0-4) or ``_frombuffer``
# (protocol 5); ``_codecs.encode`` turns the latin-1 text of a protocol-0/2 byte string into bytes,
# and an empty byte string (an empty array's data) is ``bytes()`` under protocols 0-2.
NUMPY_ARRAY_GLOBALS: Mapping[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _array.__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): _array.__reduce__()[0],
    ("numpy.core.numeric", "_frombuffer"): _array.__reduce_ex__(5)[0],
    ("numpy._core.numeric", "_frombuffer"): _array.__reduce_ex__(5)[0],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
    ("__builtin__", "bytes"): bytes, ("builtins", "bytes"): bytes,
}
del _array

# Python 2 and 3 spellings of the containers a pickle may rebuild by calling their class (``dict``
# and ``list`` literals need no global), and ``copy_reg._reconstructor`` which protocols 0 and 1 use
# to rebuild instances of plain classes (it calls only the classes it is given, which must be allowed).
PYTHON2_CONTAINER_GLOBALS: Mapping[tuple[str, str], Any] = {
    ("__builtin__", "list"): list, ("builtins", "list"): list,
    ("__builtin__", "dict"): dict, ("builtins", "dict"): dict,
    ("__builtin__", "set"): set, ("builtins", "set"): set,
    ("__builtin__", "object"): object, ("builtins", "object"): object,
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
                "could run code from the file)") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._fn}: {self._what} uses a persistent id (got {pid!r}); a data file has none")


def restricted_load(file: IO[bytes], allowed: Mapping[tuple[str, str], Any], fn: str, what: str,
                    encoding: str = "ASCII") -> Any:
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
        pickle.UnpicklingError, EOFError, ...: a corrupt file, as :func:`pickle.load` raises them.
    """
    return _RestrictedUnpickler(file, allowed, fn, what, encoding=encoding).load()
