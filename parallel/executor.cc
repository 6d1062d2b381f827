#include "parallel/executor.h"

namespace attnpaths {

Executor& Executor::Shared() {
  static Executor executor;
  return executor;
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void Executor::Loop(int index) {
  long seen = 0;
  for (;;) {
    const std::function<void(int)>* task = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index + 1 >= parts_) continue;  // not needed in this round
      task = task_;
    }
    (*task)(index + 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void Executor::Run(int parts, const std::function<void(int)>& task) {
  if (parts <= 1) {
    task(0);
    return;
  }
  const ScopedSerialBlas serial_blas;
  std::unique_lock<std::mutex> run(run_mutex_, std::try_to_lock);
  if (!run.owns_lock()) {
    // Busy with another caller's work: this call gets threads of its own.
    std::vector<std::thread> own;
    for (int p = 1; p < parts; ++p) own.emplace_back([&task, p] { task(p); });
    task(0);
    for (auto& t : own) t.join();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < parts - 1) {
      const int index = static_cast<int>(threads_.size());
      threads_.emplace_back([this, index] { Loop(index); });
    }
    task_ = &task;
    parts_ = parts;
    pending_ = parts - 1;
    ++generation_;
  }
  wake_.notify_all();
  task(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  task_ = nullptr;
}

namespace parallel_detail {

void RunCollecting(int parts, const std::function<void(int)>& task,
                   std::vector<std::exception_ptr>* errors) {
  Executor::Shared().Run(parts, [&](int p) {
    try {
      task(p);
    } catch (...) {
      (*errors)[static_cast<size_t>(p)] = std::current_exception();
    }
  });
  for (auto& e : *errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace parallel_detail
}  // namespace attnpaths
