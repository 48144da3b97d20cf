// Python bindings of the graphspike CUDA extension (one module, built by cuda_ext/_build.py).
// Each function is called from the CUDA registration of its torch.library op in cuda_ext/*.py.
// torch/python.h (Tensor <-> Python casters) instead of torch/extension.h, which also pulls in
// the whole C++ frontend (torch/all.h) that these bindings do not use.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/python.h>

#include <optional>
#include <vector>

namespace graphspike {
at::Tensor spmm_csr(const at::Tensor& indptr, const at::Tensor& indices, const std::optional<at::Tensor>& weight,
                    const at::Tensor& x);
std::vector<at::Tensor> lif_forward(const at::Tensor& x, const at::Tensor& v_init, const at::Tensor& tau,
                                    double v_threshold, std::optional<double> v_reset, bool decay_input,
                                    bool store_h);
std::vector<at::Tensor> lif_backward(at::Tensor& grad_x, const std::optional<at::Tensor>& grad_spikes,
                                     const std::optional<at::Tensor>& grad_v_last,
                                     const std::optional<at::Tensor>& grad_h, const at::Tensor& h_seq,
                                     const at::Tensor& v_init, const at::Tensor& tau, double v_threshold,
                                     std::optional<double> v_reset, bool decay_input, bool detach_reset,
                                     int64_t surrogate_id, double alpha, bool need_tau_grad);
void gather_rows_uva(const at::Tensor& table, const at::Tensor& sorted_index, const at::Tensor& perm, at::Tensor& out,
                     int64_t max_threads);
}  // namespace graphspike

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "graphspike CUDA kernels: CSR SpMM, fused multi-step LIF, zero-copy row gather";
  m.def("spmm_csr", &graphspike::spmm_csr, "CSR sum aggregation out = A x (row-parallel, deterministic)",
        py::arg("indptr"), py::arg("indices"), py::arg("weight"), py::arg("x"));
  m.def("lif_forward", &graphspike::lif_forward, "fused multi-step LIF forward -> [spikes, v_last, h_seq]",
        py::arg("x"), py::arg("v_init"), py::arg("tau"), py::arg("v_threshold"), py::arg("v_reset"),
        py::arg("decay_input"), py::arg("store_h"));
  m.def("lif_backward", &graphspike::lif_backward,
        "fused multi-step LIF backward: writes grad_x, returns [grad_v_init, grad_tau]", py::arg("grad_x"),
        py::arg("grad_spikes"), py::arg("grad_v_last"), py::arg("grad_h"), py::arg("h_seq"), py::arg("v_init"),
        py::arg("tau"), py::arg("v_threshold"), py::arg("v_reset"), py::arg("decay_input"), py::arg("detach_reset"),
        py::arg("surrogate_id"), py::arg("alpha"), py::arg("need_tau_grad"));
  m.def("gather_rows_uva", &graphspike::gather_rows_uva, "zero-copy gather of pinned host rows into out",
        py::arg("table"), py::arg("sorted_index"), py::arg("perm"), py::arg("out"), py::arg("max_threads"));
}
