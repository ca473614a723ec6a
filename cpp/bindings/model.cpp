// Binding of loopwise::model::TreeEnsemble.
#include <memory>

#include "common.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace py = pybind11;
using loopwise::ThreadLease;
using loopwise::bindings::CArray;
using loopwise::bindings::matrix_view;
using loopwise::bindings::vector_from;
using loopwise::model::TreeEnsemble;
using loopwise::model::TreeEnsembleData;

namespace {

TreeEnsembleData data_from_dict(const py::dict& f) {
  TreeEnsembleData d;
  d.n_features = f["n_features"].cast<std::int64_t>();
  d.n_outputs = f["n_outputs"].cast<std::int64_t>();
  d.tree_offsets = vector_from<std::int64_t>(f, "tree_offsets");
  d.tree_output = vector_from<std::int32_t>(f, "tree_output");
  d.feature = vector_from<std::int32_t>(f, "feature");
  d.threshold = vector_from<double>(f, "threshold");
  d.left = vector_from<std::int32_t>(f, "left");
  d.right = vector_from<std::int32_t>(f, "right");
  d.default_left = vector_from<std::uint8_t>(f, "default_left");
  d.missing_rule = vector_from<std::uint8_t>(f, "missing_rule");
  d.cover = vector_from<double>(f, "cover");
  d.value = vector_from<double>(f, "value");
  d.cat_node = vector_from<std::int64_t>(f, "cat_node");
  d.cat_left_ptr = vector_from<std::int64_t>(f, "cat_left_ptr");
  d.cat_left = vector_from<std::int32_t>(f, "cat_left");
  d.cat_right_ptr = vector_from<std::int64_t>(f, "cat_right_ptr");
  d.cat_right = vector_from<std::int32_t>(f, "cat_right");
  d.cat_other_left = vector_from<std::uint8_t>(f, "cat_other_left");
  d.base_score = vector_from<double>(f, "base_score");
  d.comparison = static_cast<loopwise::model::Comparison>(f["comparison"].cast<int>());
  d.float32_inputs = f["float32_inputs"].cast<bool>();
  d.category_cast = static_cast<loopwise::model::CategoryCast>(f["category_cast"].cast<int>());
  d.link = static_cast<loopwise::model::Link>(f["link"].cast<int>());
  d.link_scale = f["link_scale"].cast<double>();
  return d;
}

template <class T>
py::array_t<double> predict(const TreeEnsemble& ensemble, const CArray<T>& X, int n_jobs) {
  auto view = matrix_view(X, "X");
  py::array_t<double> out({view.rows, ensemble.n_outputs()});
  double* out_data = out.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    ensemble.predict(view, out_data, lease.count());
  }
  return out;
}

template <class T>
py::array_t<std::int32_t> apply(const TreeEnsemble& ensemble, const CArray<T>& X, int n_jobs) {
  auto view = matrix_view(X, "X");
  py::array_t<std::int32_t> out({view.rows, ensemble.n_trees()});
  std::int32_t* out_data = out.mutable_data();
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    ensemble.apply(view, out_data, lease.count());
  }
  return out;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<TreeEnsemble, std::shared_ptr<TreeEnsemble>>(m, "TreeEnsemble")
      .def(py::init([](const py::dict& fields) { return std::make_shared<TreeEnsemble>(data_from_dict(fields)); }),
           py::arg("fields"))
      .def("predict", &predict<double>, py::arg("X"), py::arg("n_jobs"))
      .def("predict", &predict<float>, py::arg("X"), py::arg("n_jobs"))
      .def("apply", &apply<double>, py::arg("X"), py::arg("n_jobs"))
      .def("apply", &apply<float>, py::arg("X"), py::arg("n_jobs"))
      .def(
          "transform",
          [](const TreeEnsemble& ensemble, py::array_t<double, py::array::c_style> margins) {
            if (margins.ndim() != 2 || margins.shape(1) != ensemble.n_outputs())
              throw loopwise::InvalidArgument("margins must have shape (n, n_outputs)");
            py::array_t<double> out({margins.shape(0), margins.shape(1)});
            std::copy(margins.data(), margins.data() + margins.size(), out.mutable_data());
            ensemble.transform(out.mutable_data(), margins.shape(0));
            return out;
          },
          py::arg("margins"))
      .def_property_readonly("n_trees", &TreeEnsemble::n_trees)
      .def_property_readonly("n_features", &TreeEnsemble::n_features)
      .def_property_readonly("n_outputs", &TreeEnsemble::n_outputs)
      .def_property_readonly("max_depth", &TreeEnsemble::max_depth)
      .def_property_readonly("depths", [](const TreeEnsemble& e) {
        return loopwise::bindings::to_array(std::vector<int>(e.depths()));
      });
}
