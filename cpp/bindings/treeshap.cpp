// Binding of the treeshap pillar: path-dependent and interventional TreeSHAP.
#include <memory>

#include <pybind11/stl.h>

#include "common.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/treeshap.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace py = pybind11;
using loopwise::ThreadLease;
using loopwise::bindings::CArray;
using loopwise::bindings::matrix_view;
using loopwise::explain::InterventionalTreeShap;
using loopwise::explain::PathDependentTreeShap;
using loopwise::model::TreeEnsemble;

namespace {

template <class T>
py::array_t<double> path_values(const PathDependentTreeShap& shap, const TreeEnsemble& e, const CArray<T>& X,
                                int n_jobs) {
  auto view = matrix_view(X, "X");
  py::array_t<double> out({view.rows, e.n_features(), e.n_outputs()});
  double* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    shap.shap_values(view, data, lease.count());
  }
  return out;
}

template <class T>
py::array_t<double> path_interactions(const PathDependentTreeShap& shap, const TreeEnsemble& e, const CArray<T>& X,
                                      int n_jobs) {
  auto view = matrix_view(X, "X");
  py::array_t<double> out({view.rows, e.n_features(), e.n_features(), e.n_outputs()});
  double* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    shap.interaction_values(view, data, lease.count());
  }
  return out;
}

template <class T>
py::array_t<double> interventional_values(const InterventionalTreeShap& shap, const TreeEnsemble& e,
                                          const CArray<T>& X, bool transformed, int n_jobs) {
  auto view = matrix_view(X, "X");
  py::array_t<double> out({view.rows, e.n_features(), e.n_outputs()});
  double* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    shap.shap_values(view, transformed, data, lease.count());
  }
  return out;
}

// The explainers keep a reference to the ensemble: keep_alive ties its lifetime to them.
struct PathDependentHandle {
  std::shared_ptr<TreeEnsemble> ensemble;
  PathDependentTreeShap shap;
  explicit PathDependentHandle(std::shared_ptr<TreeEnsemble> e) : ensemble(std::move(e)), shap(*ensemble) {}
};

struct InterventionalHandle {
  std::shared_ptr<TreeEnsemble> ensemble;
  InterventionalTreeShap shap;
  template <class T>
  InterventionalHandle(std::shared_ptr<TreeEnsemble> e, const CArray<T>& data)
      : ensemble(std::move(e)), shap(*ensemble, matrix_view(data, "data")) {}
};

}  // namespace

void bind_treeshap(py::module_& m) {
  py::class_<PathDependentHandle>(m, "PathDependentTreeShap")
      .def(py::init<std::shared_ptr<TreeEnsemble>>(), py::arg("ensemble"))
      .def_property_readonly("expected_value", [](const PathDependentHandle& h) { return h.shap.expected_value(); })
      .def(
          "shap_values",
          [](const PathDependentHandle& h, const CArray<double>& X, int n_jobs) {
            return path_values(h.shap, *h.ensemble, X, n_jobs);
          },
          py::arg("X"), py::arg("n_jobs"))
      .def(
          "shap_values",
          [](const PathDependentHandle& h, const CArray<float>& X, int n_jobs) {
            return path_values(h.shap, *h.ensemble, X, n_jobs);
          },
          py::arg("X"), py::arg("n_jobs"))
      .def(
          "interaction_values",
          [](const PathDependentHandle& h, const CArray<double>& X, int n_jobs) {
            return path_interactions(h.shap, *h.ensemble, X, n_jobs);
          },
          py::arg("X"), py::arg("n_jobs"))
      .def(
          "interaction_values",
          [](const PathDependentHandle& h, const CArray<float>& X, int n_jobs) {
            return path_interactions(h.shap, *h.ensemble, X, n_jobs);
          },
          py::arg("X"), py::arg("n_jobs"));

  py::class_<InterventionalHandle>(m, "InterventionalTreeShap")
      .def(py::init<std::shared_ptr<TreeEnsemble>, const CArray<double>&>(), py::arg("ensemble"), py::arg("data"))
      .def(py::init<std::shared_ptr<TreeEnsemble>, const CArray<float>&>(), py::arg("ensemble"), py::arg("data"))
      .def(
          "expected_value",
          [](const InterventionalHandle& h, bool transformed) { return h.shap.expected_value(transformed); },
          py::arg("transformed"))
      .def(
          "shap_values",
          [](const InterventionalHandle& h, const CArray<double>& X, bool transformed, int n_jobs) {
            return interventional_values(h.shap, *h.ensemble, X, transformed, n_jobs);
          },
          py::arg("X"), py::arg("transformed"), py::arg("n_jobs"))
      .def(
          "shap_values",
          [](const InterventionalHandle& h, const CArray<float>& X, bool transformed, int n_jobs) {
            return interventional_values(h.shap, *h.ensemble, X, transformed, n_jobs);
          },
          py::arg("X"), py::arg("transformed"), py::arg("n_jobs"));
}
