// `kc2cpp check --native`: the generated code of a model built for this machine (c++ -O2
// -march=native, or $CXX) and run on batches of samples, to compare with the reference evaluator
// bit for bit. Everything lives in a temporary folder removed by the destructor.
#pragma once

#include <string>
#include <vector>

#include "driver/driver.h"

namespace kc2cpp::driver {

class NativeModel {
 public:
  // Generates the model's source (namespace `model`) and builds it with a small runner. Throws Error
  // naming the compiler's output when the build fails; UsageError for models with integer inputs.
  NativeModel(const std::string& model, const std::string& weights, ir::FpMode fp, uint64_t max_memory,
              const ir::Graph& g);

  // `n` samples through predict_batch: inputs and outputs as eval::evaluate takes and returns them.
  std::vector<std::vector<float>> run(const std::vector<std::vector<float>>& xs, int64_t n);
  // "g++ -O2 -march=native, ISA path avx512"
  const std::string& description() const { return description_; }

 private:
  // A new folder in /tmp, removed with everything in it when the model is destroyed or its
  // construction fails.
  struct TempDir {
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path;
  };
  TempDir temp_;
  const std::string& dir_ = temp_.path;
  std::string runner_, description_;
  std::vector<int64_t> out_sizes_;
};

}  // namespace kc2cpp::driver
