// Binding of the agnostic pillar: KernelSHAP / permutation / exact designs and solvers,
// coalition rows, and LIME's sampler, weighted ridge and feature selection.
#include <cstring>
#include <memory>
#include <optional>

#include <pybind11/stl.h>

#include "common.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/agnostic.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace py = pybind11;
using loopwise::InvalidArgument;
using loopwise::MatrixView;
using loopwise::ThreadLease;
using loopwise::bindings::CArray;
using loopwise::bindings::matrix_view;
namespace ex = loopwise::explain;

namespace {

py::array_t<std::uint8_t> mask_array(const std::vector<std::uint8_t>& masks, std::int64_t n_features) {
  const std::int64_t cols = n_features > 0 ? n_features : 1;
  const std::int64_t rows = static_cast<std::int64_t>(masks.size()) / cols;
  py::array_t<std::uint8_t> out({rows, n_features});
  if (!masks.empty()) std::memcpy(out.mutable_data(), masks.data(), masks.size());
  return out;
}

void check_3d(const CArray<double>& a, const char* name) {
  if (a.ndim() != 3) throw InvalidArgument(std::string(name) + " must be 3-D (rows, coalitions, outputs)");
}

template <class T>
py::array_t<T> coalition_rows(const CArray<T>& X, const CArray<T>& background, const CArray<std::uint8_t>& masks,
                              std::int64_t begin, std::int64_t end, int n_jobs, std::optional<CArray<T>> out_buffer) {
  auto x = matrix_view(X, "X");
  auto bg = matrix_view(background, "background");
  if (masks.ndim() != 2 || masks.shape(1) != x.cols) throw InvalidArgument("masks must have one column per feature");
  if (bg.cols != x.cols) throw InvalidArgument("background has a different number of features than X");
  if (begin < 0 || end < begin || end > masks.shape(0)) throw InvalidArgument("mask range out of bounds");
  const std::int64_t rows = x.rows * (end - begin) * bg.rows;
  // A caller-owned buffer saves the page faults of a fresh allocation on every chunk.
  py::array_t<T> out;
  if (out_buffer) {
    out = *out_buffer;
    if (out.ndim() != 2 || out.shape(0) != rows || out.shape(1) != x.cols || !out.writeable())
      throw InvalidArgument("out must be a writeable C-contiguous array of shape (rows, n_features)");
  } else {
    out = py::array_t<T>({rows, x.cols});
  }
  T* data = out.mutable_data();
  const std::uint8_t* m = masks.data();
  const std::int64_t n_masks = masks.shape(0);
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    ex::coalition_rows(x, bg, m, n_masks, begin, end, data, lease.count());
  }
  return out;
}

template <class T>
py::array_t<double> tree_values(const loopwise::model::TreeEnsemble& e, const CArray<T>& X, const CArray<T>& background,
                                const CArray<double>& weights, const CArray<std::uint8_t>& masks, int n_jobs) {
  auto x = matrix_view(X, "X");
  auto bg = matrix_view(background, "background");
  if (x.cols != e.n_features() || bg.cols != e.n_features())
    throw InvalidArgument("X and background need one column per model feature");
  if (weights.ndim() != 1 || weights.shape(0) != bg.rows) throw InvalidArgument("weights need one value per background row");
  if (masks.ndim() != 2 || masks.shape(1) != x.cols) throw InvalidArgument("masks must have one column per feature");
  const std::int64_t n_masks = masks.shape(0);
  py::array_t<double> out({x.rows, n_masks, e.n_outputs()});
  double* data = out.mutable_data();
  const double* w = weights.data();
  const std::uint8_t* m = masks.data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    ex::tree_coalition_values(e, x, bg, w, m, n_masks, data, lease.count());
  }
  return out;
}

std::vector<double> double_list(const py::dict& d, const char* key) {
  if (!d.contains(key)) return {};
  return loopwise::bindings::vector_from<double>(d, key);
}

}  // namespace

void bind_agnostic(py::module_& m) {
  py::class_<ex::KernelDesign, std::shared_ptr<ex::KernelDesign>>(m, "KernelDesign")
      .def(py::init([](std::int64_t n_features, std::int64_t budget, std::uint64_t seed) {
             return std::make_shared<ex::KernelDesign>(ex::kernel_design(n_features, budget, seed));
           }),
           py::arg("n_features"), py::arg("budget"), py::arg("seed"))
      .def_property_readonly("masks", [](const ex::KernelDesign& d) { return mask_array(d.masks, d.n_features); })
      .def_readonly("n_features", &ex::KernelDesign::n_features)
      .def_readonly("n_masks", &ex::KernelDesign::n_masks)
      .def_readonly("n_enumerated", &ex::KernelDesign::n_enumerated)
      .def_readonly("sampled_weight", &ex::KernelDesign::sampled_weight)
      .def_property_readonly("n_pairs", &ex::KernelDesign::n_pairs)
      .def_property_readonly("enumerated_weights",
                             [](const ex::KernelDesign& d) { return std::vector<double>(d.enumerated_weights); })
      .def_property_readonly("pairs", [](const ex::KernelDesign& d) { return std::vector<std::int64_t>(d.pairs); })
      .def_property_readonly("masks_needed",
                             [](const ex::KernelDesign& d) { return std::vector<std::int64_t>(d.masks_needed); })
      .def(
          "solve",
          [](const ex::KernelDesign& d, std::int64_t n_pairs, const CArray<double>& values, const CArray<double>& base,
             const CArray<double>& full, int n_jobs) {
            check_3d(values, "values");
            const std::int64_t rows = values.shape(0), used = values.shape(1), k = values.shape(2);
            if (base.ndim() != 1 || base.shape(0) != k) throw InvalidArgument("base must have one value per output");
            if (full.ndim() != 2 || full.shape(0) != rows || full.shape(1) != k)
              throw InvalidArgument("full must be (rows, outputs)");
            py::array_t<double> phi({rows, d.n_features, k});
            py::array_t<double> se({rows, d.n_features, k});
            double* p = phi.mutable_data();
            double* s = se.mutable_data();
            {
              py::gil_scoped_release release;
              ThreadLease lease(n_jobs);
              ex::kernel_solve(d, n_pairs, values.data(), rows, used, k, base.data(), full.data(), p, s,
                               lease.count());
            }
            return py::make_tuple(phi, se);
          },
          py::arg("n_pairs"), py::arg("values"), py::arg("base"), py::arg("full"), py::arg("n_jobs"));

  py::class_<ex::PermutationDesign, std::shared_ptr<ex::PermutationDesign>>(m, "PermutationDesign")
      .def(py::init([](std::int64_t n_features, std::int64_t n_pairs, std::uint64_t seed) {
             return std::make_shared<ex::PermutationDesign>(ex::permutation_design(n_features, n_pairs, seed));
           }),
           py::arg("n_features"), py::arg("n_pairs"), py::arg("seed"))
      .def_property_readonly("masks", [](const ex::PermutationDesign& d) { return mask_array(d.masks, d.n_features); })
      .def_readonly("n_permutations", &ex::PermutationDesign::n_permutations)
      .def_property_readonly("n_masks", &ex::PermutationDesign::n_masks)
      .def_property_readonly("orders", [](const ex::PermutationDesign& d) { return std::vector<std::int64_t>(d.orders); })
      .def(
          "solve",
          [](const ex::PermutationDesign& d, const CArray<double>& values, int n_jobs) {
            check_3d(values, "values");
            const std::int64_t rows = values.shape(0), k = values.shape(2);
            if (values.shape(1) != d.n_masks()) throw InvalidArgument("values must cover every mask of the design");
            py::array_t<double> phi({rows, d.n_features, k});
            py::array_t<double> se({rows, d.n_features, k});
            double* p = phi.mutable_data();
            double* s = se.mutable_data();
            {
              py::gil_scoped_release release;
              ThreadLease lease(n_jobs);
              ex::permutation_solve(d, values.data(), rows, k, p, s, lease.count());
            }
            return py::make_tuple(phi, se);
          },
          py::arg("values"), py::arg("n_jobs"));

  m.def(
      "exact_shapley",
      [](const CArray<double>& values, std::int64_t n_features, int n_jobs) {
        check_3d(values, "values");
        if (n_features < 1 || n_features > 30) throw InvalidArgument("n_features must be in [1, 30]");
        if (values.shape(1) != (std::int64_t{1} << n_features))
          throw InvalidArgument("values must hold 2^n_features coalitions");
        const std::int64_t rows = values.shape(0), k = values.shape(2);
        py::array_t<double> phi({rows, n_features, k});
        double* p = phi.mutable_data();
        {
          py::gil_scoped_release release;
          ThreadLease lease(n_jobs);
          ex::exact_solve(n_features, values.data(), rows, k, p, lease.count());
        }
        return phi;
      },
      py::arg("values"), py::arg("n_features"), py::arg("n_jobs"));

  m.def("coalition_rows", &coalition_rows<double>, py::arg("X"), py::arg("background"), py::arg("masks"),
        py::arg("begin"), py::arg("end"), py::arg("n_jobs"), py::arg("out") = py::none());
  m.def("coalition_rows", &coalition_rows<float>, py::arg("X"), py::arg("background"), py::arg("masks"),
        py::arg("begin"), py::arg("end"), py::arg("n_jobs"), py::arg("out") = py::none());

  py::class_<ex::LimeFeature>(m, "LimeFeature")
      .def(py::init([](const py::dict& d) {
             ex::LimeFeature f;
             f.categorical = d.contains("categorical") && py::cast<bool>(d["categorical"]);
             f.binned = d.contains("binned") && py::cast<bool>(d["binned"]);
             if (d.contains("mean")) f.mean = py::cast<double>(d["mean"]);
             if (d.contains("scale")) f.scale = py::cast<double>(d["scale"]);
             f.values = double_list(d, "values");
             f.frequencies = double_list(d, "frequencies");
             f.bin_mean = double_list(d, "bin_mean");
             f.bin_std = double_list(d, "bin_std");
             f.bin_min = double_list(d, "bin_min");
             f.bin_max = double_list(d, "bin_max");
             return f;
           }),
           py::arg("fields"));

  m.def(
      "lime_sample",
      [](const std::vector<ex::LimeFeature>& features, const CArray<double>& row, const CArray<double>& row_category,
         std::int64_t n, bool around_instance, std::uint64_t seed) {
        const auto M = static_cast<std::int64_t>(features.size());
        if (row.ndim() != 1 || row.shape(0) != M || row_category.ndim() != 1 || row_category.shape(0) != M)
          throw InvalidArgument("row must have one value per feature");
        if (n < 1) throw InvalidArgument("num_samples must be at least 1");
        py::array_t<double> inverse({n, M});
        py::array_t<double> binary({n, M});
        double* inv = inverse.mutable_data();
        double* bin = binary.mutable_data();
        {
          py::gil_scoped_release release;
          ex::lime_sample(features, row.data(), row_category.data(), n, around_instance, seed, inv, bin);
        }
        return py::make_tuple(inverse, binary);
      },
      py::arg("features"), py::arg("row"), py::arg("row_category"), py::arg("n"), py::arg("around_instance"),
      py::arg("seed"));

  m.def(
      "weighted_ridge",
      [](const CArray<double>& X, const CArray<double>& y, const CArray<double>& w, const std::vector<std::int64_t>& used,
         double alpha) {
        auto x = matrix_view(X, "X");
        if (y.ndim() != 1 || y.shape(0) != x.rows || w.ndim() != 1 || w.shape(0) != x.rows)
          throw InvalidArgument("y and weights need one entry per row of X");
        ex::RidgeFit fit;
        {
          py::gil_scoped_release release;
          fit = ex::weighted_ridge(x, y.data(), w.data(), used, alpha);
        }
        return py::make_tuple(fit.intercept, fit.coef, fit.score, fit.prediction_first);
      },
      py::arg("X"), py::arg("y"), py::arg("weights"), py::arg("used"), py::arg("alpha"));

  m.def(
      "lime_select",
      [](const CArray<double>& X, const CArray<double>& y, const CArray<double>& w, std::int64_t num_features,
         bool forward) {
        auto x = matrix_view(X, "X");
        if (y.ndim() != 1 || y.shape(0) != x.rows || w.ndim() != 1 || w.shape(0) != x.rows)
          throw InvalidArgument("y and weights need one entry per row of X");
        std::vector<std::int64_t> chosen;
        {
          py::gil_scoped_release release;
          chosen = ex::lime_select(x, y.data(), w.data(), num_features, forward);
        }
        return chosen;
      },
      py::arg("X"), py::arg("y"), py::arg("weights"), py::arg("num_features"), py::arg("forward"));

  m.def("tree_coalition_values", &tree_values<double>, py::arg("ensemble"), py::arg("X"), py::arg("background"),
        py::arg("weights"), py::arg("masks"), py::arg("n_jobs"));
  m.def("tree_coalition_values", &tree_values<float>, py::arg("ensemble"), py::arg("X"), py::arg("background"),
        py::arg("weights"), py::arg("masks"), py::arg("n_jobs"));

  m.def("normal_quantile", &ex::normal_quantile, py::arg("p"));
}
