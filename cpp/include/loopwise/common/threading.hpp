#pragma once
/// OpenMP helpers: a process-wide thread budget and an exception-safe parallel loop.
#include <cstdint>
#include <exception>
#include <mutex>

#ifdef LOOPWISE_HAVE_OPENMP
#include <omp.h>
#endif

namespace loopwise {

/// Number of hardware threads the core may use (1 when built without OpenMP).
int hardware_threads();

/// Reserves threads from a process-wide budget so that several Python threads calling
/// into the core at once never oversubscribe the machine. Results never depend on the
/// number granted: every parallel loop splits work by index, not by thread.
class ThreadLease {
 public:
  explicit ThreadLease(int requested);
  ~ThreadLease();
  ThreadLease(const ThreadLease&) = delete;
  ThreadLease& operator=(const ThreadLease&) = delete;
  /// Threads granted (at least 1).
  int count() const { return granted_; }

 private:
  int granted_;
};

/// Keeps the first exception thrown inside a parallel region so it can be rethrown after.
class ExceptionCollector {
 public:
  template <class Body>
  void run(Body&& body) noexcept {
    try {
      body();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  bool failed() const { return static_cast<bool>(error_); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

/// Runs body(i) for i in [0, n) on n_threads threads. Each index is handled by exactly
/// one thread, so output written per index is identical for any thread count.
/// The first exception is rethrown after the loop; remaining indices are skipped.
template <class Body>
void parallel_for(std::int64_t n, int n_threads, Body&& body) {
  ExceptionCollector errors;
  if (n_threads <= 1 || n <= 1) {
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#ifdef LOOPWISE_HAVE_OPENMP
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
  for (std::int64_t i = 0; i < n; ++i) {
    if (errors.failed()) continue;
    errors.run([&] { body(i); });
  }
#else
  for (std::int64_t i = 0; i < n; ++i) body(i);
#endif
  errors.rethrow();
}

/// Splits [0, n) into fixed blocks of `block` indices and runs body(begin, end) per block.
template <class Body>
void parallel_blocks(std::int64_t n, std::int64_t block, int n_threads, Body&& body) {
  if (block < 1) block = 1;
  const std::int64_t n_blocks = (n + block - 1) / block;
  parallel_for(n_blocks, n_threads, [&](std::int64_t b) {
    const std::int64_t begin = b * block;
    const std::int64_t end = begin + block < n ? begin + block : n;
    body(begin, end);
  });
}

}  // namespace loopwise
