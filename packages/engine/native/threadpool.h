// A small fork-join pool: the calling thread works too, idle workers sleep on a condition variable after a
// short bounded spin (so they never keep a core busy while JavaScript needs it).
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace harmonia {

// Sets FTZ and DAZ on the calling thread.
void set_flush_denormals();

class ThreadPool {
 public:
  ThreadPool(int threads, bool pin);
  ~ThreadPool();
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Runs fn(task) for task in [0, n_tasks) across all threads; returns when every task is done.
  void run(int n_tasks, const std::function<void(int)>& fn);

 private:
  struct Job {
    const std::function<void(int)>* fn;
    int n;
    std::atomic<int> next{0};
    std::atomic<int> remaining{0};
  };
  void worker_loop();
  void work(Job& job);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_cv_;
  std::shared_ptr<Job> job_;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
};

}  // namespace harmonia
