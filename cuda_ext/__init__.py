"""graphspike custom ops: each a CUDA kernel beside its pure-PyTorch reference.

Ops are registered in the ``torch.ops.graphspike`` namespace. The compiled CUDA extension is
optional and built explicitly with ``python -m cuda_ext build``; without it every op runs its
PyTorch implementation (see :mod:`cuda_ext._backend`).
"""
from cuda_ext._backend import BACKENDS, extension_available, extension_status, resolve_backend
from cuda_ext.csr import csr_rows, csr_transpose
from cuda_ext.spmm import spmm, spmm_reference

__all__ = [
    "BACKENDS",
    "csr_rows",
    "csr_transpose",
    "extension_available",
    "extension_status",
    "resolve_backend",
    "spmm",
    "spmm_reference",
]
