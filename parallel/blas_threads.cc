#include "parallel/blas_threads.h"

#include <dlfcn.h>

#include <mutex>

namespace attnpaths {
namespace {

using SetThreads = void (*)(int);
using GetThreads = int (*)();

struct OpenBlas {
  SetThreads set = nullptr;
  GetThreads get = nullptr;
};

const OpenBlas& Entry() {
  static const OpenBlas entry = [] {
    OpenBlas e;
    e.set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    e.get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (e.set == nullptr || e.get == nullptr) e = OpenBlas{};
    return e;
  }();
  return entry;
}

std::mutex guard_mutex;
int active_guards = 0;
int saved_threads = 0;

}  // namespace

ScopedSerialBlas::ScopedSerialBlas() {
  const OpenBlas& blas = Entry();
  if (blas.set == nullptr) return;
  std::lock_guard<std::mutex> lock(guard_mutex);
  if (active_guards++ == 0) {
    saved_threads = blas.get();
    if (saved_threads != 1) blas.set(1);
  }
}

ScopedSerialBlas::~ScopedSerialBlas() {
  const OpenBlas& blas = Entry();
  if (blas.set == nullptr) return;
  std::lock_guard<std::mutex> lock(guard_mutex);
  if (--active_guards == 0 && saved_threads != 1) blas.set(saved_threads);
}

void LimitBlasThreads(int threads) {
  const OpenBlas& blas = Entry();
  if (blas.set == nullptr || threads < 1) return;
  std::lock_guard<std::mutex> lock(guard_mutex);
  if (active_guards > 0) {
    if (saved_threads > threads) saved_threads = threads;  // restored by the last guard
    return;
  }
  if (blas.get() > threads) blas.set(threads);
}

int BlasThreadCount() {
  const OpenBlas& blas = Entry();
  return blas.get == nullptr ? 0 : blas.get();
}

}  // namespace attnpaths
