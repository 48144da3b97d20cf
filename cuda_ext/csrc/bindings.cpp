// Python bindings of the graphspike CUDA extension (one module, built by cuda_ext/_build.py).
// Each function is called from the CUDA registration of its torch.library op in cuda_ext/*.py.
// torch/python.h (Tensor <-> Python casters) instead of torch/extension.h, which also pulls in
// the whole C++ frontend (torch/all.h) that these bindings do not use.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/python.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace graphspike {
at::Tensor spmm_csr(const at::Tensor& indptr, const at::Tensor& indices, const std::optional<at::Tensor>& weight,
                    const at::Tensor& x, const at::Tensor& extra_ptr, const at::Tensor& ws_ptr, int64_t seg_len);
at::Tensor spmm_edge_dot(const at::Tensor& indptr, const at::Tensor& indices, const at::Tensor& grad,
                         const at::Tensor& x, const at::Tensor& extra_ptr, int64_t seg_len);
std::vector<at::Tensor> lif_forward(const at::Tensor& x, const at::Tensor& v_init, const at::Tensor& tau,
                                    double v_threshold, std::optional<double> v_reset, bool decay_input,
                                    bool store_h);
std::vector<at::Tensor> lif_backward(at::Tensor& grad_x, const std::optional<at::Tensor>& grad_spikes,
                                     const std::optional<at::Tensor>& grad_v_last,
                                     const std::optional<at::Tensor>& grad_h, const at::Tensor& h_seq,
                                     const at::Tensor& v_init, const at::Tensor& tau, double v_threshold,
                                     std::optional<double> v_reset, bool decay_input, bool detach_reset,
                                     int64_t surrogate_id, double alpha, bool need_tau_grad);
void gather_rows_into(const at::Tensor& table, const at::Tensor& index, const std::optional<at::Tensor>& perm,
                      at::Tensor& out, at::Tensor& invalid, int64_t max_threads);
void stream_copy(const at::Tensor& src, at::Tensor& dst, int64_t max_threads);
int64_t host_register(int64_t ptr, int64_t nbytes, bool read_only);
int64_t host_unregister(int64_t ptr);
std::tuple<int64_t, int64_t> pointer_info(int64_t ptr);
std::string cuda_error_name(int64_t code);
}  // namespace graphspike

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "graphspike CUDA kernels: CSR SpMM, fused multi-step LIF, zero-copy row gather, host registration";
  m.def("spmm_csr", &graphspike::spmm_csr,
        "CSR sum aggregation out = A x (row groups, heavy rows in segments; deterministic)", py::arg("indptr"),
        py::arg("indices"), py::arg("weight"), py::arg("x"), py::arg("extra_ptr"), py::arg("ws_ptr"),
        py::arg("seg_len"));
  m.def("spmm_edge_dot", &graphspike::spmm_edge_dot, "edge-weight gradient grad_w[e] = <grad[row_e], x[col_e]>",
        py::arg("indptr"), py::arg("indices"), py::arg("grad"), py::arg("x"), py::arg("extra_ptr"),
        py::arg("seg_len"));
  m.def("lif_forward", &graphspike::lif_forward, "fused multi-step LIF forward -> [spikes, v_last, h_seq]",
        py::arg("x"), py::arg("v_init"), py::arg("tau"), py::arg("v_threshold"), py::arg("v_reset"),
        py::arg("decay_input"), py::arg("store_h"));
  m.def("lif_backward", &graphspike::lif_backward,
        "fused multi-step LIF backward: writes grad_x, returns [grad_v_init, grad_tau]", py::arg("grad_x"),
        py::arg("grad_spikes"), py::arg("grad_v_last"), py::arg("grad_h"), py::arg("h_seq"), py::arg("v_init"),
        py::arg("tau"), py::arg("v_threshold"), py::arg("v_reset"), py::arg("decay_input"), py::arg("detach_reset"),
        py::arg("surrogate_id"), py::arg("alpha"), py::arg("need_tau_grad"));
  m.def("gather_rows_into", &graphspike::gather_rows_into,
        "out[perm[k]] = table[index[k]] from device or page-locked host memory; bad rows zeroed and counted",
        py::arg("table"), py::arg("index"), py::arg("perm"), py::arg("out"), py::arg("invalid"),
        py::arg("max_threads"));
  m.def("stream_copy", &graphspike::stream_copy, "SM-issued copy of a device or page-locked host buffer",
        py::arg("src"), py::arg("dst"), py::arg("max_threads"));
  m.def("host_register", &graphspike::host_register,
        "cudaHostRegister(ptr, nbytes, portable|mapped[|read-only]) -> cudaError code; the error state is cleared",
        py::arg("ptr"), py::arg("nbytes"), py::arg("read_only"));
  m.def("host_unregister", &graphspike::host_unregister,
        "cudaHostUnregister(ptr) -> cudaError code; the error state is cleared", py::arg("ptr"));
  m.def("pointer_info", &graphspike::pointer_info, "(memory type, device address) of an address", py::arg("ptr"));
  m.def("cuda_error_name", &graphspike::cuda_error_name, "name and description of a cudaError code",
        py::arg("code"));
}
