#include "kernels/collective.h"

#include <exception>
#include <new>
#include <string>

namespace attnpaths {

void RunCollectively(const Communicator& world, const std::function<void()>& work) {
  std::exception_ptr failure;
  std::string message;
  try {
    work();
  } catch (const std::bad_alloc&) {
    failure = std::current_exception();
    message = "out of memory (lower P, the number of paths, or use storage = \"features\")";
  } catch (const std::exception& e) {
    failure = std::current_exception();
    message = e.what();
  }
  if (world.size() <= 1) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  const int first = world.FirstFailure(!failure);
  if (first < 0) return;
  world.Broadcast(&message, first);
  throw CollectiveError(message);
}

}  // namespace attnpaths
