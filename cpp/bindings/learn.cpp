// Binding of the learn pillar: sequential updates of online linear learners and RLS.
#include <pybind11/stl.h>

#include <functional>
#include <mutex>
#include <optional>

#include "common.hpp"
#include "loopwise/learn/linear.hpp"

namespace py = pybind11;
namespace ln = loopwise::learn;
using loopwise::bindings::CArray;
using loopwise::bindings::matrix_view;

namespace {

using MutArray = py::array_t<double, py::array::c_style>;

/// The learners' state lives in numpy arrays that the core updates in place with the GIL
/// released; two threads updating the same arrays at once would interleave their updates.
/// Each state is guarded by the mutex its first array's address hashes to (a fixed table, so
/// there is nothing to create or free per model; unrelated models rarely share a stripe, and
/// sharing one only serialises them).
std::mutex& state_mutex(const void* key) {
  static std::mutex stripes[64];
  return stripes[std::hash<const void*>{}(key) % 64];
}

/// A float64, C-contiguous, writeable array of `size` elements from the state dict; the
/// estimator owns it, the core updates it in place.
double* mutable_field(const py::dict& state, const char* key, py::ssize_t size) {
  if (!state.contains(key)) throw loopwise::InvalidArgument(std::string("learner state misses '") + key + "'");
  py::object obj = state[key];
  if (!py::isinstance<MutArray>(obj)) throw loopwise::InvalidArgument(std::string("state '") + key + "' must be float64");
  auto array = obj.cast<MutArray>();
  if (!array.writeable() || array.size() != size || !(array.flags() & py::array::c_style)) {
    throw loopwise::InvalidArgument(std::string("state '") + key + "' has the wrong size or layout");
  }
  return array.mutable_data();
}

const double* optional_field(const py::dict& state, const char* key, py::ssize_t size) {
  if (!state.contains(key) || state[key].is_none()) return nullptr;
  return mutable_field(state, key, size);
}

ln::LinearConfig config_from(const py::dict& c) {
  ln::LinearConfig config;
  config.loss = static_cast<ln::Loss>(c["loss"].cast<int>());
  config.optimizer = static_cast<ln::Optimizer>(c["optimizer"].cast<int>());
  config.schedule = static_cast<ln::Schedule>(c["schedule"].cast<int>());
  config.class_weight = static_cast<ln::ClassWeight>(c["class_weight"].cast<int>());
  config.eta0 = c["eta0"].cast<double>();
  config.power_t = c["power_t"].cast<double>();
  config.l2 = c["l2"].cast<double>();
  config.l1 = c["l1"].cast<double>();
  config.huber_epsilon = c["huber_epsilon"].cast<double>();
  config.beta1 = c["beta1"].cast<double>();
  config.beta2 = c["beta2"].cast<double>();
  config.epsilon = c["epsilon"].cast<double>();
  config.prox = c["prox"].cast<double>();
  config.fit_intercept = c["fit_intercept"].cast<bool>();
  config.standardize = c["standardize"].cast<bool>();
  const int loss = static_cast<int>(config.loss), opt = static_cast<int>(config.optimizer);
  if (loss < 0 || loss > 3 || opt < 0 || opt > 2 || static_cast<int>(config.schedule) < 0 ||
      static_cast<int>(config.schedule) > 1 || static_cast<int>(config.class_weight) < 0 ||
      static_cast<int>(config.class_weight) > 2) {
    throw loopwise::InvalidArgument("unknown loss, optimizer, schedule or class weight code");
  }
  return config;
}

void learn_linear(const py::dict& config_dict, const py::dict& state_dict, std::int64_t n_outputs,
                  std::int64_t n_features, std::int64_t n_classes, const CArray<double>& X, const CArray<double>& y,
                  const std::optional<CArray<double>>& sample_weight,
                  const std::optional<CArray<std::int64_t>>& order) {
  const auto config = config_from(config_dict);
  auto view = matrix_view(X, "X");
  if (y.ndim() != 1 || y.shape(0) != view.rows) throw loopwise::InvalidArgument("y must be 1-D with one value per row");
  if (sample_weight && (sample_weight->ndim() != 1 || sample_weight->shape(0) != view.rows)) {
    throw loopwise::InvalidArgument("sample_weight must be 1-D with one value per row");
  }
  if (order && order->ndim() != 1) throw loopwise::InvalidArgument("order must be 1-D");
  if (n_outputs < 1 || n_features < 0 || n_classes < 0) throw loopwise::InvalidArgument("bad model dimensions");
  const py::ssize_t K = n_outputs, d = n_features;
  ln::LinearState state;
  state.n_outputs = n_outputs;
  state.n_features = n_features;
  state.n_classes = n_classes;
  state.coef = mutable_field(state_dict, "coef", K * d);
  state.intercept = mutable_field(state_dict, "intercept", K);
  state.moment1 = mutable_field(state_dict, "moment1", K * (d + 1));
  state.moment2 = mutable_field(state_dict, "moment2", K * (d + 1));
  state.scaler = mutable_field(state_dict, "scaler", 2 * d + 1);
  state.n_updates = mutable_field(state_dict, "n_updates", 1);
  if (n_classes > 0) {
    state.class_counts = mutable_field(state_dict, "class_counts", n_classes);
    state.class_weights = optional_field(state_dict, "class_weights", n_classes);
  }
  state.anchor_coef = optional_field(state_dict, "anchor_coef", K * d);
  state.anchor_intercept = optional_field(state_dict, "anchor_intercept", K);
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(state_mutex(state.coef));
  ln::learn_sequential(config, state, view, y.data(), sample_weight ? sample_weight->data() : nullptr,
                       order ? order->data() : nullptr, order ? order->shape(0) : 0);
}

void learn_rls(MutArray theta, MutArray P, bool fit_intercept, double forgetting, const CArray<double>& X,
               const CArray<double>& y, const std::optional<CArray<double>>& sample_weight) {
  auto view = matrix_view(X, "X");
  if (theta.ndim() != 1 || !theta.writeable()) throw loopwise::InvalidArgument("theta must be a writeable 1-D array");
  const auto p = theta.shape(0);
  if (P.ndim() != 2 || P.shape(0) != p || P.shape(1) != p || !P.writeable()) {
    throw loopwise::InvalidArgument("P must be a writeable square array matching theta");
  }
  if (y.ndim() != 1 || y.shape(0) != view.rows) throw loopwise::InvalidArgument("y must be 1-D with one value per row");
  if (sample_weight && (sample_weight->ndim() != 1 || sample_weight->shape(0) != view.rows)) {
    throw loopwise::InvalidArgument("sample_weight must be 1-D with one value per row");
  }
  double* theta_data = theta.mutable_data();
  double* P_data = P.mutable_data();
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(state_mutex(P_data));
  ln::rls_sequential(theta_data, P_data, p, fit_intercept, forgetting, view, y.data(),
                     sample_weight ? sample_weight->data() : nullptr);
}

}  // namespace

void bind_learn(py::module_& m) {
  m.def("learn_linear", &learn_linear, py::arg("config"), py::arg("state"), py::arg("n_outputs"),
        py::arg("n_features"), py::arg("n_classes"), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("order"), "Learn rows one by one, updating the state arrays in place.");
  m.def("learn_rls", &learn_rls, py::arg("theta"), py::arg("P"), py::arg("fit_intercept"), py::arg("forgetting"),
        py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        "Recursive least squares over the rows, updating theta and P in place.");
}
