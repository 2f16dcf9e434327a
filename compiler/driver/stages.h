// -v: the pipeline's stages and their wall-clock times, one line each on stderr
// ("kc2cpp: load model.h5: 0.41 s"), so that a slow stage on a big model can be named.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace kc2cpp::driver {

class Stages {
 public:
  explicit Stages(bool verbose) : verbose_(verbose), last_(std::chrono::steady_clock::now()) {}
  // Ends the stage that began at the previous call (or construction).
  void done(const std::string& stage) {
    const auto now = std::chrono::steady_clock::now();
    if (verbose_)
      std::fprintf(stderr, "kc2cpp: %s: %.3f s\n", stage.c_str(), std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  bool verbose_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace kc2cpp::driver
