// A DRAM read-bandwidth probe, so benchmarks can state achieved bandwidth as a share of what this machine
// delivers in the same run.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "threadpool.h"

namespace harmonia {

__attribute__((target("avx2"))) static float sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return out[0] + out[7];
}

// Median GB/s over `reps` full passes of a `bytes`-sized buffer read by `threads` threads.
double measure_read_bandwidth(size_t bytes, int threads, int reps) {
  const size_t n = bytes / sizeof(float) / 4096 * 4096;
  void* mem = mmap(nullptr, n * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 0;
  madvise(mem, n * sizeof(float), MADV_HUGEPAGE);
  float* p = static_cast<float*>(mem);
  for (size_t i = 0; i < n; i++) p[i] = 1.0f;
  ThreadPool pool(threads, true);
  std::vector<double> rates;
  volatile float sink = 0;
  const int tasks = threads * 16;
  const size_t per = n / tasks;
  for (int r = 0; r < reps; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run(tasks, [&](int t) { sink = sink + sum_avx2(p + t * per, per); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(per) * tasks * sizeof(float) / s / 1e9);
  }
  munmap(mem, n * sizeof(float));
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace harmonia
