// kc2cpp: Keras model file -> one standalone C++ file.
//
// Conventions (tested in tests/e2e/cli_test.cpp): results on stdout, messages on stderr prefixed
// "kc2cpp: "; exit 0 on success, 2 for a usage error ("kc2cpp: error: ..." and a hint to run
// --help), 1 for every other failure (a bad file, a model that cannot be compiled, a check beyond
// the bound). `-o -` writes the source to stdout. Options given before a subcommand belong to
// compiling and are refused there, never ignored; -v (stage times) is the exception.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "driver/driver.h"
#include "driver/stages.h"
#include "error.h"

namespace {

using kc2cpp::UsageError;

const char* const kSubcommands[] = {"inspect", "eval", "check"};

// Options every command shares. Plain strings and numbers, checked after parsing: CLI11's
// validators would print their internals ("ENUM:value in {...}") in --help.
struct Common {
  std::string model, weights, fp = "unfused";
  double max_memory_gb = 0;
  bool verbose = false;
};

void add_common(CLI::App& app, Common& c, bool fp, bool model_required) {
  app.set_help_flag("-h,--help", "print this help and exit");
  CLI::Option* model = app.add_option("model", c.model, "Keras model: .keras or .h5 (model.save), or .json "
                                                        "(model.to_json()) with --weights")
                           ->option_text("FILE");
  if (model_required) model->required();
  app.add_option("--weights", c.weights,
                 "weights-only file from model.save_weights() (Keras 3 .weights.h5 or tf.keras .h5); the model "
                 "is then the architecture JSON from model.to_json()")
      ->option_text("FILE");
  if (fp)
    app.add_option("--fp", c.fp,
                   "multiply-add rounding: 'unfused' (default: product and sum each rounded, runs everywhere) or "
                   "'fused' (one rounding; the generated file needs a hardware FMA, e.g. -march=x86-64-v3)")
        ->option_text("MODE");
  app.add_option("--max-memory", c.max_memory_gb,
                 "memory limit for reading the model file and HDF5 data files (default 8, or 4 times the file's "
                 "size if larger; also KC2CPP_MAX_MEMORY)")
      ->option_text("GB");
  app.add_flag("-v,--verbose", c.verbose, "print each stage and its time on stderr");
}

void add_data(CLI::App& app, kc2cpp::driver::DataOptions& d, int64_t& end) {
  app.add_option("--input", d.inputs,
                 "samples: a .npy file or an HDF5 dataset (test.hdf5:/image), first axis = samples, any integer "
                 "or float type; one per model input, in model.inputs order")
      ->option_text("DATA")
      ->required();
  app.add_option("--start", d.start, "first sample to use (default 0)")->option_text("N");
  app.add_option("--end", end, "use the samples before this one (default: all)")->option_text("N");
  app.add_option("--scale", d.scale, "multiply the data by A (and divide by B) as numpy computes x * A / B; "
                                     "e.g. --scale 1/255")
      ->option_text("A[/B]");
  app.add_option("--offset", d.offset, "then add C (e.g. --offset -0.5)")->option_text("C");
}

kc2cpp::ir::FpMode fp_mode(const std::string& s) {
  std::string lower;
  for (char ch : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "unfused") return kc2cpp::ir::FpMode::Unfused;
  if (lower == "fused") return kc2cpp::ir::FpMode::Fused;
  throw UsageError("--fp '" + s + "': choose 'unfused' or 'fused'");
}

uint64_t max_memory(double gb) {
  if (gb == 0) return 0;
  if (!(gb >= 0.01 && gb <= 1048576.0))
    throw UsageError("--max-memory " + std::to_string(gb) + ": give a size in GB between 0.01 and 1048576");
  return static_cast<uint64_t>(gb * double(uint64_t{1} << 30));
}

// The subcommand named on the command line, for the --help hint of a usage error.
std::string subcommand_in(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    for (const char* s : kSubcommands)
      if (std::string(argv[i]) == s) return s;
  return "";
}

int usage_error(const std::string& what, const std::string& sub) {
  std::fprintf(stderr, "kc2cpp: error: %s\nRun 'kc2cpp%s --help' for usage.\n", what.c_str(),
               sub.empty() ? "" : (" " + sub).c_str());
  return 2;
}

// Compile options given before a subcommand: refused (they would do nothing there).
void refuse_top_options(const CLI::App& app, const CLI::App& sub) {
  for (const CLI::Option* o : app.get_options()) {
    const std::vector<std::string>& names = o->get_lnames();
    const bool exempt = !names.empty() && (names[0] == "help" || names[0] == "version" || names[0] == "verbose");
    if (o->count() > 0 && !exempt)
      throw UsageError(o->get_name() + " before '" + sub.get_name() + "' applies to compiling a model, not to '" +
                       sub.get_name() + "'; put the subcommand first: kc2cpp " + sub.get_name() + " model.h5 [options]");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kc2cpp " KC2CPP_VERSION ": compiles a Keras model into one standalone C++17 file.", "kc2cpp"};
  app.footer(
      "Examples:\n"
      "  kc2cpp model.keras -o model.cpp [--header model.h] [--name ns]   compile ('-o -': to stdout)\n"
      "  kc2cpp model.json --weights model.weights.h5 -o model.cpp        model.to_json() + save_weights()\n"
      "  kc2cpp inspect model.keras                                       summary, parameters, arena size\n"
      "  kc2cpp eval model.keras --input x.npy --output y.npy             the reference evaluator\n"
      "  kc2cpp check model.h5 --input test.hdf5:/image --scale 1/255 --labels test.hdf5:/label\n"
      "Run 'kc2cpp <subcommand> --help' for a subcommand's options.");
  app.set_version_flag("--version", "kc2cpp " KC2CPP_VERSION, "print the version and exit");
  app.set_help_flag("-h,--help", "print this help and exit");
  app.require_subcommand(0, 1);

  Common top;
  add_common(app, top, true, false);
  kc2cpp::driver::CompileOptions opt;
  app.add_option("-o,--output", opt.output,
                 "C++ source to write (default: <model name>.cpp; '-': standard output); a regular file, never a "
                 "device, FIFO, symbolic link or the model itself")
      ->option_text("FILE");
  app.add_option("--header", opt.header, "also write the API as a header; the source then includes it")
      ->option_text("FILE");
  app.add_option("--name", opt.name, "namespace of the generated API (default: from the output file name; with -o -, the model's)")
      ->option_text("NAME");

  CLI::App* inspect = app.add_subcommand("inspect", "print the model summary, parameter counts and arena size");
  Common ins;
  add_common(*inspect, ins, false, true);

  CLI::App* eval = app.add_subcommand(
      "eval", "run the reference evaluator (the bits the generated code reproduces) over data files");
  eval->footer("Example: kc2cpp eval model.h5 --input test.hdf5:/image --scale 1/255 --output preds.h5:/y");
  Common ev;
  add_common(*eval, ev, true, true);
  kc2cpp::driver::EvalOptions eopt;
  int64_t eval_end = -1;
  add_data(*eval, eopt.data, eval_end);
  eval->add_option("--output", eopt.outputs,
                   "float32 results: a .npy file or an HDF5 dataset in a new file (preds.h5:/y; several datasets may share "
                   "a file); one per model output")
      ->option_text("DATA")
      ->required();

  CLI::App* check = app.add_subcommand(
      "check", "run every sample through the reference evaluator; report accuracy against labels and the "
               "agreement with Keras's outputs; exit 1 beyond the README's bound");
  check->footer(
      "Example: kc2cpp check model.h5 --input test.hdf5:/image --scale 1/255 --labels test.hdf5:/label "
      "--keras keras_out.npy\nThe bound: per sample, |ours - keras| <= 100 * 2^-23 * max|keras|.");
  Common ch;
  add_common(*check, ch, true, true);
  kc2cpp::driver::CheckOptions copt;
  int64_t check_end = -1;
  add_data(*check, copt.data, check_end);
  check->add_option("--labels", copt.labels, "true classes: ids (N,) or (N, 1), or one-hot (N, C); for output 0")
      ->option_text("DATA");
  check->add_flag("--native", copt.native,
                  "also build the generated code for this machine ($CXX or c++, -O2 -march=native), run it on "
                  "every sample and require the evaluator's bits");
  check->add_option("--keras", copt.keras,
                    "Keras's outputs on the same samples (model.predict), one per model output; all rows of the data "
                    "or just the selected ones")
      ->option_text("DATA");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: on stdout, exit 0
    return usage_error(e.what(), subcommand_in(argc, argv));
  }
  const std::string sub = subcommand_in(argc, argv);
  try {
    const bool verbose = top.verbose;
    if (*inspect) {
      refuse_top_options(app, *inspect);
      kc2cpp::driver::Stages stages(verbose || ins.verbose);
      std::fputs(kc2cpp::driver::inspect(ins.model, ins.weights, max_memory(ins.max_memory_gb)).c_str(), stdout);
      stages.done("inspect " + ins.model);
    } else if (*eval) {
      refuse_top_options(app, *eval);
      eopt.model = ev.model, eopt.weights = ev.weights, eopt.fp = fp_mode(ev.fp);
      eopt.max_memory = max_memory(ev.max_memory_gb), eopt.verbose = verbose || ev.verbose, eopt.data.end = eval_end;
      kc2cpp::driver::eval_files(eopt);
    } else if (*check) {
      refuse_top_options(app, *check);
      copt.model = ch.model, copt.weights = ch.weights, copt.fp = fp_mode(ch.fp);
      copt.max_memory = max_memory(ch.max_memory_gb), copt.verbose = verbose || ch.verbose, copt.data.end = check_end;
      copt.progress = ::isatty(STDERR_FILENO) != 0;
      const kc2cpp::driver::CheckReport r = kc2cpp::driver::check(copt);
      std::printf("%s\n", r.summary.c_str());
      if (r.native_differ > 0) {
        std::fprintf(stderr, "kc2cpp: error: %s: the generated code built with %s gives other bits than the "
                             "reference evaluator on %lld samples; please report this as a kc2cpp bug\n",
                     copt.model.c_str(), r.native.c_str(), static_cast<long long>(r.native_differ));
        return 1;
      }
      if (!r.within_bound()) {
        std::fprintf(stderr, "kc2cpp: error: %s: sample %lld differs from Keras by %.1f float32 epsilons of its largest "
                             "output, beyond the bound of %g (README, 'Agreement with Keras')\n",
                     copt.model.c_str(), static_cast<long long>(r.worst_sample), r.max_epsilons,
                     kc2cpp::driver::kKerasBoundEpsilons);
        return 1;
      }
    } else {
      if (top.model.empty()) return usage_error("no model given", "");
      opt.model = top.model, opt.weights = top.weights, opt.fp = fp_mode(top.fp);
      opt.max_memory = max_memory(top.max_memory_gb), opt.verbose = verbose;
      if (opt.output.empty()) opt.output = kc2cpp::driver::namespace_from_path(opt.model) + ".cpp";
      kc2cpp::driver::compile_file(opt);
    }
  } catch (const UsageError& e) {
    return usage_error(e.what(), sub);
  } catch (const kc2cpp::Error& e) {
    std::fprintf(stderr, "kc2cpp: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kc2cpp: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
