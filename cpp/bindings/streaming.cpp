// Binding of the streaming pillar: drift detectors over a stream of values.
#include <pybind11/stl.h>

#include "common.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace py = pybind11;
namespace st = loopwise::streaming;
using loopwise::bindings::CArray;
using loopwise::bindings::to_array;

namespace {

py::tuple update_many(st::Detector& detector, const CArray<double>& values, bool with_warnings) {
  if (values.ndim() != 1) throw loopwise::InvalidArgument("values must be 1-D");
  std::vector<std::int64_t> drifts, warnings;
  {
    py::gil_scoped_release release;
    drifts = detector.update_many(values.data(), values.shape(0), 1, with_warnings ? &warnings : nullptr);
  }
  return py::make_tuple(to_array(std::move(drifts)), to_array(std::move(warnings)));
}

}  // namespace

void bind_streaming(py::module_& m) {
  py::class_<st::Detector>(m, "StreamDetector")
      .def("update", &st::Detector::update, py::arg("x"), "Consume one value; True when drift was detected.")
      .def("update_many", &update_many, py::arg("values"), py::arg("with_warnings"),
           "Consume an array; (drift positions, warning positions).")
      .def("reset", &st::Detector::reset)
      .def_property_readonly("drift_detected", &st::Detector::drift_detected)
      .def_property_readonly("warning_detected", &st::Detector::warning_detected)
      .def("state", &st::Detector::state, "Complete state as named lists of floats.")
      .def("load", &st::Detector::load, py::arg("state"));
  py::class_<st::Adwin, st::Detector>(m, "StreamADWIN")
      .def(py::init<double, std::int64_t, std::int64_t, std::int64_t, std::int64_t>(), py::arg("delta"),
           py::arg("clock"), py::arg("max_buckets"), py::arg("min_window_length"), py::arg("grace_period"))
      .def_property_readonly("width", &st::Adwin::width)
      .def_property_readonly("total", &st::Adwin::total)
      .def_property_readonly("variance", &st::Adwin::variance)
      .def_property_readonly("n_detections", &st::Adwin::n_detections);
  py::class_<st::PageHinkley, st::Detector>(m, "StreamPageHinkley")
      .def(py::init<std::int64_t, double, double, double, int>(), py::arg("min_instances"), py::arg("delta"),
           py::arg("threshold"), py::arg("alpha"), py::arg("mode"));
  py::class_<st::Kswin, st::Detector>(m, "StreamKSWIN")
      .def(py::init<double, std::int64_t, std::int64_t, std::vector<std::uint32_t>, std::vector<double>>(),
           py::arg("alpha"), py::arg("window_size"), py::arg("stat_size"), py::arg("seed_key"), py::arg("window"))
      .def_property_readonly("p_value", &st::Kswin::p_value);
  py::class_<st::Ddm, st::Detector>(m, "StreamDDM")
      .def(py::init<std::int64_t, double, double>(), py::arg("warm_start"), py::arg("warning_threshold"),
           py::arg("drift_threshold"));
  py::class_<st::Eddm, st::Detector>(m, "StreamEDDM")
      .def(py::init<std::int64_t, double, double>(), py::arg("warm_start"), py::arg("alpha"), py::arg("beta"));
  py::class_<st::HddmA, st::Detector>(m, "StreamHDDM_A")
      .def(py::init<double, double, bool>(), py::arg("drift_confidence"), py::arg("warning_confidence"),
           py::arg("two_sided_test"));
  py::class_<st::HddmW, st::Detector>(m, "StreamHDDM_W")
      .def(py::init<double, double, double, bool>(), py::arg("drift_confidence"), py::arg("warning_confidence"),
           py::arg("lambda_val"), py::arg("two_sided_test"));
}
