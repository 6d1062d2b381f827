#include "sampler/leapfrog.h"

#include "kernels/error.h"

namespace attnpaths {

const char* IntegratorName(Integrator integrator) {
  switch (integrator) {
    case Integrator::kLeapfrog:
      return "leapfrog";
    case Integrator::kPriorSplit:
      return "prior_split";
  }
  return "?";
}

Integrator ParseIntegrator(const std::string& text, const std::string& field) {
  for (Integrator i : {Integrator::kLeapfrog, Integrator::kPriorSplit}) {
    if (text == IntegratorName(i)) return i;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of leapfrog, prior_split"));
}

}  // namespace attnpaths
