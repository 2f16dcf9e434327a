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
// generate() and write the files. Each file is written to a temporary name beside it and renamed
// into place only when everything succeeded: on error or SIGINT/SIGTERM/SIGHUP no file is left.
void compile_file(const CompileOptions& opt);

// What `kc2cpp inspect` prints. `weights_path`: as CompileOptions::weights.
std::string inspect(const std::string& model_path, const std::string& weights_path = "", uint64_t max_memory = 0);
// The same for a loaded model.
std::string inspect_model(const load::KerasModel& model);

// Runs the reference evaluator on .npy inputs ([N, ...] per input), writes .npy outputs.
void eval_files(const std::string& model_path, const std::string& weights_path, const std::vector<std::string>& inputs,
                const std::vector<std::string>& outputs, ir::FpMode fp, uint64_t max_memory = 0);

// One message per weight array holding NaN or infinite values, naming the file, the layer and the array
// (Keras saves them as trained; the compile goes on, the user is told).
std::vector<std::string> nonfinite_weights(const load::KerasModel& model);

// A valid C++ identifier derived from a file name ("my-net.cpp" -> "my_net").
std::string namespace_from_path(const std::string& path);

}  // namespace kc2cpp::driver
