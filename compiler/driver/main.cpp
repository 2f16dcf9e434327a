// kc2cpp: Keras model file -> one standalone C++ file.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "driver/driver.h"
#include "error.h"

namespace {

void add_fp_option(CLI::App& app, kc2cpp::ir::FpMode& fp) {
  static const std::map<std::string, kc2cpp::ir::FpMode> kModes = {{"unfused", kc2cpp::ir::FpMode::Unfused},
                                                                   {"fused", kc2cpp::ir::FpMode::Fused}};
  app.add_option("--fp", fp,
                 "Multiply-add rounding: 'unfused' (default; product and sum each rounded, runs everywhere) or "
                 "'fused' (one rounding, in the sums and in the activations' exp/expm1; needs a hardware FMA on the target)")
      ->transform(CLI::CheckedTransformer(kModes, CLI::ignore_case));
}

// --max-memory in gigabytes (2^30 bytes); 0 (not given) leaves the loader's default.
void add_memory_option(CLI::App& app, double& gb) {
  app.add_option("--max-memory", gb,
                 "memory limit in GB for reading the model file (default: 8, or 4 times the file's size if larger; "
                 "also KC2CPP_MAX_MEMORY)")
      ->check(CLI::Range(0.01, 1048576.0));
}

uint64_t bytes_of(double gb) { return static_cast<uint64_t>(gb * double(uint64_t{1} << 30)); }

void add_weights_option(CLI::App& app, std::string& weights) {
  app.add_option("--weights", weights,
                 "weights-only file written by model.save_weights() (Keras 3 .weights.h5 or tf.keras .h5); "
                 "the model argument is then the architecture JSON written by model.to_json()");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kc2cpp " KC2CPP_VERSION
               ": compiles a Keras model into one standalone C++17 file. The model is a file saved by\n"
               "model.save() (.keras, or legacy .h5), or an architecture from model.to_json() with the\n"
               "weights file from model.save_weights() (Keras 3 .weights.h5, or tf.keras .h5) after --weights.\n"
               "  kc2cpp model.keras -o model.cpp [--header model.h] [--name ns]\n"
               "  kc2cpp model.json --weights model.weights.h5 -o model.cpp\n"
               "  kc2cpp inspect model.keras            (also: inspect model.json --weights w.h5)\n"
               "  kc2cpp eval model.keras --input x.npy --output y.npy"};
  app.set_version_flag("--version", KC2CPP_VERSION);
  app.require_subcommand(0, 1);

  kc2cpp::driver::CompileOptions opt;
  app.add_option("model", opt.model, "Keras model: .keras or .h5 (model.save), or .json (model.to_json()) with --weights")
      ->check(CLI::NonexistentPath | CLI::ExistingPath);
  add_weights_option(app, opt.weights);
  app.add_option("-o,--output", opt.output,
                 "C++ source to write (default: <model name>.cpp); a regular file, never a device, FIFO, "
                 "symbolic link or the model itself");
  app.add_option("--header", opt.header, "also write the API as a header; the source then includes it");
  app.add_option("--name", opt.name, "namespace of the generated API (default: from the output file name)");
  add_fp_option(app, opt.fp);
  double max_memory_gb = 0;
  add_memory_option(app, max_memory_gb);

  CLI::App* inspect = app.add_subcommand("inspect", "print the model summary, parameter counts and arena size");
  std::string inspect_model, inspect_weights;
  inspect->add_option("model", inspect_model, "Keras model: .keras, .h5, or .json with --weights")->required();
  add_weights_option(*inspect, inspect_weights);
  double inspect_memory_gb = 0;
  add_memory_option(*inspect, inspect_memory_gb);

  CLI::App* eval = app.add_subcommand("eval", "run the reference evaluator on .npy inputs, write .npy outputs");
  std::string eval_model, eval_weights;
  std::vector<std::string> eval_in, eval_out;
  kc2cpp::ir::FpMode eval_fp = kc2cpp::ir::FpMode::Unfused;
  eval->add_option("model", eval_model, "Keras model: .keras, .h5, or .json with --weights")->required();
  add_weights_option(*eval, eval_weights);
  eval->add_option("--input", eval_in, "float32 .npy, shape [N, ...], one per model input")->required();
  eval->add_option("--output", eval_out, ".npy to write, one per model output")->required();
  add_fp_option(*eval, eval_fp);
  double eval_memory_gb = 0;
  add_memory_option(*eval, eval_memory_gb);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version exit 0; every usage error exits 2
  }
  try {
    if (*inspect) {
      std::fputs(kc2cpp::driver::inspect(inspect_model, inspect_weights, bytes_of(inspect_memory_gb)).c_str(), stdout);
    } else if (*eval) {
      kc2cpp::driver::eval_files(eval_model, eval_weights, eval_in, eval_out, eval_fp, bytes_of(eval_memory_gb));
    } else {
      if (opt.model.empty()) {
        std::fputs(app.help().c_str(), stderr);
        return 2;
      }
      if (opt.output.empty()) opt.output = kc2cpp::driver::namespace_from_path(opt.model) + ".cpp";
      opt.max_memory = bytes_of(max_memory_gb);
      kc2cpp::driver::compile_file(opt);
    }
  } catch (const kc2cpp::Error& e) {
    std::fprintf(stderr, "kc2cpp: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kc2cpp: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
