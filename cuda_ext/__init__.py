"""graphspike custom ops: each a CUDA kernel beside its pure-PyTorch reference.

Ops are registered in the ``torch.ops.graphspike`` namespace:

* :func:`spmm` -- CSR sum aggregation (graphs);
* :func:`lif_multistep` / :func:`lif_multistep_sequence` -- fused multi-step leaky integrate-and-fire
  with surrogate gradient, on the neuron core of :mod:`cuda_ext.neuron` (:class:`LIFParams`,
  :func:`lif_step`);
* :func:`gather_rows` -- row gather, zero-copy from pinned host memory on GPUs (page-locking
  a table in place is the sampling layer's; :mod:`cuda_ext.host_memory` has its CUDA calls).

The compiled CUDA extension is optional and built explicitly with ``python -m cuda_ext build``
(``python -m cuda_ext info`` says which backend each op uses and why); without it every op
runs its PyTorch implementation (see :mod:`cuda_ext._backend`). The same command builds the CPU
kernels (``csrc/cpu``: the fused LIF, vectorised; a C++ compiler is all it needs), which
``backend="auto"`` runs on CPU tensors.
"""

from cuda_ext._backend import BACKENDS, extension_available, extension_status, resolve_backend
from cuda_ext.csr import CSR, csr_rows, csr_transpose
from cuda_ext.gather import GatherHandle, gather_rows, gather_rows_async, gather_rows_reference
from cuda_ext.host_memory import host_register, host_unregister, is_pinned_range
from cuda_ext.lif import lif_multistep, lif_multistep_sequence
from cuda_ext.neuron import LIFParams, lif_charge, lif_fire, lif_multistep_reference, lif_reset, lif_step
from cuda_ext.spmm import spmm, spmm_reference
from cuda_ext.surrogate import SURROGATES

__all__ = [
    "BACKENDS",
    "CSR",
    "GatherHandle",
    "LIFParams",
    "SURROGATES",
    "csr_rows",
    "csr_transpose",
    "extension_available",
    "extension_status",
    "gather_rows",
    "gather_rows_async",
    "gather_rows_reference",
    "host_register",
    "host_unregister",
    "is_pinned_range",
    "lif_charge",
    "lif_fire",
    "lif_multistep",
    "lif_multistep_reference",
    "lif_multistep_sequence",
    "lif_reset",
    "lif_step",
    "resolve_backend",
    "spmm",
    "spmm_reference",
]
