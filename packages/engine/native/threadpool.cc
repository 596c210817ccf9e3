#include "threadpool.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

#include <chrono>

namespace harmonia {

static void pin_to_cpu(std::thread::native_handle_type handle, int cpu) {
  const int ncpu = static_cast<int>(std::thread::hardware_concurrency());
  if (ncpu <= 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % ncpu, &set);
  pthread_setaffinity_np(handle, sizeof(set), &set);
}

ThreadPool::ThreadPool(int threads, bool pin) {
  for (int i = 1; i < threads; i++) {
    workers_.emplace_back([this] { worker_loop(); });
    if (pin) pin_to_cpu(workers_.back().native_handle(), i);
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(Job& job) {
  for (;;) {
    const int task = job.next.fetch_add(1);
    if (task >= job.n) break;
    (*job.fn)(task);
    if (job.remaining.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_all();
    }
  }
}

// Flush denormals to zero: SwiGLU outputs of strongly negative gates are denormal, and each denormal operand
// costs a microcode assist (hundreds of cycles) in the multiply-adds.
void set_flush_denormals() { _mm_setcsr(_mm_getcsr() | 0x8040); }

void ThreadPool::worker_loop() {
  set_flush_denormals();
  uint64_t seen = 0;
  for (;;) {
    // Bounded spin (~50 us) before sleeping: decode issues many short parallel sections back to back.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (generation_.load(std::memory_order_acquire) == seen) {
      for (int i = 0; i < 32; i++) _mm_pause();
      if (std::chrono::steady_clock::now() > deadline) break;
    }
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      seen = generation_.load();
      if (stop_) return;
      job = job_;
    }
    if (job) work(*job);
  }
}

void ThreadPool::run(int n_tasks, const std::function<void(int)>& fn) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int i = 0; i < n_tasks; i++) fn(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n_tasks;
  job->remaining.store(n_tasks);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  work(*job);
  if (job->remaining.load() != 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (job->remaining.load() != 0 && std::chrono::steady_clock::now() < deadline) _mm_pause();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return job->remaining.load() == 0; });
  }
  std::lock_guard<std::mutex> lock(mu_);
  job_.reset();
}

}  // namespace harmonia
