// The compiler's entry points, shared by the command line (main.cpp) and the tests.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "load/keras_model.h"

namespace kc2cpp::driver {

struct CompileOptions {
  std::string model;   // input: .h5 or .keras, or an architecture .json with `weights`
  std::string weights; // weights-only file for an architecture JSON (save_weights()), or empty
  std::string output;  // .cpp to write
  std::string header;  // .h to write, or empty
  std::string name;    // namespace; empty: derived from the output file name
  ir::FpMode fp = ir::FpMode::Unfused;
  uint64_t max_memory = 0;  // the loader child's memory limit in bytes; 0: the default (load::load_model)
  std::chrono::milliseconds load_timeout{0};  // the loader child's time; 0: the default (load::load_model)
  bool verbose = false;     // -v: each stage and its time on stderr
};

// load -> lower -> passes: the optimised IR of a model file.
ir::Graph compile_graph(const load::KerasModel& model, ir::FpMode fp);

// The generated source (and header) as text; nothing is written.
struct Generated {
  std::string source, header;
  std::vector<std::string> warnings;  // nonfinite_weights(); compile_file prints them ("kc2cpp: warning: ...")
};
Generated generate(const CompileOptions& opt);

// Checks the output paths (driver/output.h: regular files only, never the input model), then
// generate() and write the files; an output "-" is standard output, written when all else succeeded. Each file is written to a temporary name beside it and renamed
// into place only when everything succeeded: on error or SIGINT/SIGTERM/SIGHUP no file is left.
void compile_file(const CompileOptions& opt);

// What `kc2cpp inspect` prints. `weights_path`: as CompileOptions::weights.
std::string inspect(const std::string& model_path, const std::string& weights_path = "", uint64_t max_memory = 0);
// The same for a loaded model.
std::string inspect_model(const load::KerasModel& model);

// Where eval and check read their samples: one data file (data/data.h) per model input, rows
// [start, end) of each, and the --scale/--offset transform. The data's shape must be the model
// input's shape, or differ as Keras accepts (Functional._adjust_input_rank, Keras 2 and 3 alike):
// one trailing axis of 1 fewer (added) or more (dropped); a note on stderr says so.
struct DataOptions {
  std::vector<std::string> inputs;
  int64_t start = 0, end = -1;  // end -1: to the last row
  std::string scale, offset;    // as given: "1/255", "-0.5"; empty: none
};

struct EvalOptions {
  std::string model, weights;
  DataOptions data;
  std::vector<std::string> outputs;  // one per model output: out.npy or out.h5:/dataset
  ir::FpMode fp = ir::FpMode::Unfused;
  uint64_t max_memory = 0;
  bool verbose = false;
};
// Runs the reference evaluator over the data, a chunk of rows at a time, and writes the outputs
// (float32, shape [N, ...]); nothing is written if anything fails.
void eval_files(const EvalOptions& opt);

struct CheckOptions {
  std::string model, weights;
  DataOptions data;
  std::string labels;              // the true classes for output 0: ids (N,) or (N, 1), or one-hot (N, C); or ""
  std::vector<std::string> keras;  // Keras's outputs on the same samples, one per model output; or none
  ir::FpMode fp = ir::FpMode::Unfused;
  uint64_t max_memory = 0;
  bool verbose = false;
  bool progress = false;  // a progress bar on stderr (main.cpp: only when stderr is a terminal)
  bool native = false;    // also build the generated code for this machine and compare its bits (driver/native.h)
};
// The bound of README "Agreement with Keras", in float32 epsilons of the sample's largest |Keras output|.
inline constexpr double kKerasBoundEpsilons = 100;
struct CheckReport {
  int64_t samples = 0;
  int64_t correct = -1;        // samples whose predicted class is the label; -1 without labels
  int64_t agree = -1;          // samples with the same top-1 class as Keras (output 0); -1 without Keras outputs
  double max_epsilons = 0;     // max over samples and outputs of max|ours - keras| / (2^-23 max|keras|)
  int64_t worst_sample = -1;   // where max_epsilons is reached (data row number)
  int64_t native_differ = -1;  // --native: samples where the generated code's bits differ from the evaluator's
  std::string native;          // --native: how the generated code was built ("c++ -O2 -march=native, ISA path avx2")
  std::string summary;         // the one line `kc2cpp check` prints
  bool within_bound() const { return max_epsilons <= kKerasBoundEpsilons; }
  bool ok() const { return within_bound() && native_differ <= 0; }
};
// Runs every sample through the reference evaluator and compares with the labels and Keras's outputs.
CheckReport check(const CheckOptions& opt);

// One message per weight array holding NaN or infinite values, naming the file, the layer and the array
// (Keras saves them as trained; the compile goes on, the user is told).
std::vector<std::string> nonfinite_weights(const load::KerasModel& model);
// Each message as "kc2cpp: warning: <message>" on stderr.
void print_warnings(const std::vector<std::string>& warnings);
// load::load_model, then its nonfinite_weights() printed as warnings: how eval, check and inspect read
// the model (compile prints Generated::warnings the same way).
load::KerasModel load_model_warning(const std::string& model, const std::string& weights, uint64_t max_memory);

// A valid C++ identifier derived from a file name ("my-net.cpp" -> "my_net").
std::string namespace_from_path(const std::string& path);

}  // namespace kc2cpp::driver
