// Binding of the drift pillar: two-sample statistics, exact p-values and kernel MMD.
#include <pybind11/stl.h>

#include "common.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/drift/column_compare.hpp"
#include "loopwise/drift/mmd.hpp"
#include "loopwise/drift/two_sample.hpp"

namespace py = pybind11;
namespace drift = loopwise::drift;
using loopwise::ThreadLease;
using loopwise::bindings::CArray;
using loopwise::bindings::matrix_view;
using loopwise::bindings::to_array;

namespace {

std::vector<drift::Sorted> sorted_views(const std::vector<CArray<double>>& arrays, const char* name) {
  std::vector<drift::Sorted> views;
  views.reserve(arrays.size());
  for (const auto& a : arrays) {
    if (a.ndim() != 1) throw loopwise::InvalidArgument(std::string(name) + " entries must be 1-D");
    views.push_back(drift::Sorted{a.data(), a.shape(0)});
  }
  return views;
}

py::list to_list(std::vector<std::vector<double>>&& vectors) {
  py::list out;
  for (auto& v : vectors) out.append(to_array(std::move(v)));
  return out;
}

py::list sort_columns(const CArray<double>& X, int n_jobs) {
  auto view = matrix_view(X, "X");
  std::vector<std::vector<double>> sorted;
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    sorted = drift::sort_samples(drift::columns_of(view), lease.count());
  }
  return to_list(std::move(sorted));
}

py::list sort_rows(const CArray<double>& X, int n_jobs) {
  auto view = matrix_view(X, "X");
  std::vector<drift::Strided> rows;
  for (std::int64_t i = 0; i < view.rows; ++i) rows.push_back(drift::Strided{view.row(i), view.cols, 1});
  std::vector<std::vector<double>> sorted;
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    sorted = drift::sort_samples(rows, lease.count());
  }
  return to_list(std::move(sorted));
}

py::list sort_arrays(const std::vector<CArray<double>>& arrays, int n_jobs) {
  std::vector<drift::Strided> samples;
  for (const auto& a : arrays) {
    if (a.ndim() != 1) throw loopwise::InvalidArgument("arrays must be 1-D");
    samples.push_back(drift::Strided{a.data(), a.shape(0), 1});
  }
  std::vector<std::vector<double>> sorted;
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    sorted = drift::sort_samples(samples, lease.count());
  }
  return to_list(std::move(sorted));
}

py::dict compare_numeric(const std::vector<CArray<double>>& reference, const std::vector<CArray<double>>& current,
                         const std::vector<std::vector<double>>& edges, std::uint32_t statistics,
                         std::int64_t exact_ks_max_n, double psi_epsilon, double js_base, int n_jobs) {
  const auto ref = sorted_views(reference, "reference");
  const auto cur = sorted_views(current, "current");
  drift::NumericOptions options{statistics, exact_ks_max_n, psi_epsilon, js_base};
  drift::NumericStats stats(0);
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    stats = drift::compare_numeric(ref, cur, edges, options, lease.count());
  }
  py::dict out;
  out["ks"] = to_array(std::move(stats.ks));
  out["ks_exact_pvalue"] = to_array(std::move(stats.ks_exact_pvalue));
  out["cvm_u"] = to_array(std::move(stats.cvm_u));
  out["cvm_exact_pvalue"] = to_array(std::move(stats.cvm_exact_pvalue));
  out["anderson_a2akn"] = to_array(std::move(stats.anderson_a2akn));
  out["wasserstein"] = to_array(std::move(stats.wasserstein));
  out["energy"] = to_array(std::move(stats.energy));
  out["psi"] = to_array(std::move(stats.psi));
  out["jensen_shannon"] = to_array(std::move(stats.jensen_shannon));
  out["hellinger"] = to_array(std::move(stats.hellinger));
  return out;
}

py::tuple count_divergences(const CArray<std::int64_t>& p, const CArray<std::int64_t>& q, double psi_epsilon,
                            double js_base) {
  if (p.ndim() != 1 || q.ndim() != 1 || p.shape(0) != q.shape(0)) {
    throw loopwise::InvalidArgument("count vectors must be 1-D and of equal length");
  }
  const auto k = p.shape(0);
  return py::make_tuple(drift::psi_from_counts(p.data(), q.data(), k, psi_epsilon),
                        drift::jensen_shannon_from_counts(p.data(), q.data(), k, js_base),
                        drift::hellinger_from_counts(p.data(), q.data(), k));
}

py::tuple mmd(const CArray<double>& X, const CArray<double>& Y, double bandwidth, std::int64_t n_permutations,
              std::uint64_t seed, int n_jobs) {
  auto x = matrix_view(X, "X");
  auto y = matrix_view(Y, "Y");
  drift::MmdResult result;
  {
    py::gil_scoped_release release;
    ThreadLease lease(n_jobs);
    result = drift::mmd_permutation_test(x, y, bandwidth, n_permutations, seed, lease.count());
  }
  return py::make_tuple(result.statistic, to_array(std::move(result.null_statistics)));
}

}  // namespace

void bind_drift(py::module_& m) {
  m.def("drift_sort_columns", &sort_columns, py::arg("X"), py::arg("n_jobs"),
        "Sorted non-NaN values of each column of a float64 matrix.");
  m.def("drift_sort_rows", &sort_rows, py::arg("X"), py::arg("n_jobs"),
        "Sorted non-NaN values of each row of a float64 matrix (a transposed table).");
  m.def("drift_sort_arrays", &sort_arrays, py::arg("arrays"), py::arg("n_jobs"),
        "Sorted non-NaN copies of 1-D float64 arrays, sorted in parallel.");
  m.def("drift_compare_numeric", &compare_numeric, py::arg("reference"), py::arg("current"), py::arg("edges"),
        py::arg("statistics"), py::arg("exact_ks_max_n"), py::arg("psi_epsilon"), py::arg("js_base"),
        py::arg("n_jobs"), "Per-column two-sample statistics of sorted samples.");
  m.def("drift_ks_exact_pvalue", &drift::ks_exact_pvalue, py::arg("n"), py::arg("m"), py::arg("d"));
  m.def("drift_cvm_exact_pvalue", &drift::cvm_exact_pvalue, py::arg("u"), py::arg("n"), py::arg("m"));
  m.def("drift_count_divergences", &count_divergences, py::arg("p"), py::arg("q"), py::arg("psi_epsilon"),
        py::arg("js_base"), "PSI, Jensen-Shannon distance and Hellinger distance of two count vectors.");
  m.def("drift_mmd", &mmd, py::arg("X"), py::arg("Y"), py::arg("bandwidth"), py::arg("n_permutations"),
        py::arg("seed"), py::arg("n_jobs"), "Unbiased MMD^2 and its permutation null statistics.");
}
