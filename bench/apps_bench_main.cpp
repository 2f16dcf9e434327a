// Latency of one inference, for scripts/check_applications.sh: predict() on the first sample of
// an input file, single thread, warm cache.
//
//   apps_bench <model> <input.f32> [runs]
//
// Prints "<isa> <median ns> <min ns>": each of `runs` (default 7) runs times enough back-to-back
// predict calls to last at least 0.2 s and gives their mean; median and minimum over the runs.
// "harness_models.h" is the one tests/e2e/harness_main.cpp uses (X(ns) per model); models with
// one float input and one output only.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "harness_models.h"

namespace {

template <class W>
W& workspace() {
  static W w;
  return w;
}

template <class W, class P>
int bench(P predict, int in_size, int out_size, const char* isa, const char* in_path, int runs) {
  std::vector<float> x(static_cast<std::size_t>(in_size)), y(static_cast<std::size_t>(out_size));
  std::FILE* f = std::fopen(in_path, "rb");
  if (!f || std::fread(x.data(), sizeof(float), x.size(), f) != x.size())
    return std::fprintf(stderr, "apps_bench: cannot read one sample from %s\n", in_path), 2;
  std::fclose(f);
  using clock = std::chrono::steady_clock;
  const auto once = [&](long reps) {
    const auto t0 = clock::now();
    for (long r = 0; r < reps; ++r) {
      predict(x.data(), y.data(), workspace<W>());
      __asm__ volatile("" : : "r"(y.data()) : "memory");
    }
    return std::chrono::duration<double, std::nano>(clock::now() - t0).count();
  };
  once(1);  // warm up: weights and arena into the caches
  long reps = 1;
  while (once(reps) < 0.2e9) reps *= 2;
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) ns.push_back(once(reps) / static_cast<double>(reps));
  std::sort(ns.begin(), ns.end());
  std::printf("%s %.0f %.0f\n", isa, ns[ns.size() / 2], ns[0]);
  return 0;
}

#define KC2CPP_BENCH_ENTRY(ns)                                                                       \
  if (std::strcmp(argv[1], #ns) == 0) {                                                              \
    static_assert(ns::kNumInputs == 1 && ns::kNumOutputs == 1, "one input and one output only");     \
    return bench<ns::Workspace>(&ns::predict, ns::kInputSizes[0], ns::kOutputSizes[0], ns::isa(), argv[2], runs); \
  }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) return std::fprintf(stderr, "usage: %s <model> <input.f32> [runs]\n", argv[0]), 2;
  const int runs = argc == 4 ? std::max(1, std::atoi(argv[3])) : 7;
  KC2CPP_HARNESS_MODELS(KC2CPP_BENCH_ENTRY)
  std::fprintf(stderr, "apps_bench: no model '%s' in this build\n", argv[1]);
  return 2;
}
