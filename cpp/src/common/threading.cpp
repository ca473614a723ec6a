#include "loopwise/common/threading.hpp"

#include <algorithm>
#include <atomic>

namespace loopwise {

namespace {
std::atomic<int> g_threads_in_use{0};
}

int hardware_threads() {
#ifdef LOOPWISE_HAVE_OPENMP
  return std::max(1, omp_get_num_procs());
#else
  return 1;
#endif
}

ThreadLease::ThreadLease(int requested) {
  requested = std::max(1, requested);
#ifdef LOOPWISE_HAVE_OPENMP
  const int budget = hardware_threads();
  int in_use = g_threads_in_use.load();
  int grant = 1;
  // The calling thread always gets one; extra threads only while the budget lasts.
  do {
    grant = std::max(1, std::min(requested, budget - in_use));
  } while (!g_threads_in_use.compare_exchange_weak(in_use, in_use + grant));
  granted_ = grant;
#else
  granted_ = 1;
  g_threads_in_use += 1;
#endif
}

ThreadLease::~ThreadLease() { g_threads_in_use -= granted_; }

}  // namespace loopwise
