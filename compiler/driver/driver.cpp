#include "driver/driver.h"

#include <cmath>
#include <cstdio>
#include <new>

#include "driver/output.h"
#include "driver/stages.h"
#include "emit/emit.h"
#include "emit/naming.h"
#include "error.h"
#include "lower/lower.h"
#include "passes/passes.h"
#include "plan/plan.h"

namespace kc2cpp::driver {
namespace {

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<std::string> nonfinite_weights(const load::KerasModel& model) {
  std::vector<std::string> out;
  for (const load::LayerWeights& l : model.layers)
    for (const load::NamedArray& a : l.arrays) {
      size_t nan = 0, inf = 0;
      for (float v : a.data) nan += std::isnan(v), inf += std::isinf(v);
      if (nan + inf == 0) continue;
      out.push_back(model.path + ": layer '" + l.layer + "': weight '" + a.name + "' holds " +
                    (nan ? std::to_string(nan) + " NaN" : "") + (nan && inf ? " and " : "") +
                    (inf ? std::to_string(inf) + " infinite" : "") + " value(s) of " + std::to_string(a.data.size()) +
                    "; kc2cpp computes with them as they are (the outputs may be NaN): check the training");
    }
  return out;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::fprintf(stderr, "kc2cpp: warning: %s\n", w.c_str());
}

load::KerasModel load_model_warning(const std::string& model, const std::string& weights, uint64_t max_memory) {
  load::KerasModel m = load::load_model(model, weights, max_memory);
  print_warnings(nonfinite_weights(m));
  return m;
}

std::string namespace_from_path(const std::string& path) {
  std::string stem = base_name(path);
  const size_t dot = stem.find('.');
  if (dot != std::string::npos) stem.resize(dot);
  emit::NameTable names;
  std::string id = names.get("", stem);
  if (!emit::is_identifier(id)) id = "model_" + id;
  return id;
}

ir::Graph compile_graph(const load::KerasModel& model, ir::FpMode fp) {
  ir::Graph g = lower::lower(model);
  g.fp = fp;
  passes::optimize(g);
  return g;
}

namespace {

// Runs `f`; running out of memory (a model too large for this machine) is reported as an Error
// naming the file, not as an internal error.
template <typename F>
auto within_memory(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    throw Error(path + ": kc2cpp ran out of memory while compiling this model; it is too large for this machine's "
                       "memory (see README, limits), or free memory and try again");
  }
}

Generated generate_unchecked(const CompileOptions& opt) {
  emit::Options eo;
  eo.ns = opt.name.empty() ? namespace_from_path(opt.output) : opt.name;
  if (!emit::is_identifier(eo.ns))
    throw Error(opt.model + ": --name '" + eo.ns + "' is not a valid C++ identifier; pass e.g. --name my_model");
  eo.source_name = base_name(opt.model) + (opt.weights.empty() ? "" : " with " + base_name(opt.weights));
  eo.header_name = opt.header.empty() ? "" : base_name(opt.header);
  Stages stages(opt.verbose);
  const load::KerasModel model = load::load_model(opt.model, opt.weights, opt.max_memory, opt.load_timeout);
  stages.done("load " + opt.model);
  const ir::Graph g = compile_graph(model, opt.fp);
  stages.done("lower and optimise (" + std::to_string(g.ops.size()) + " ops)");
  const plan::Plan plan = plan::make_plan(g);
  stages.done("plan the arena");
  emit::Output out = emit::emit(g, plan, eo);
  stages.done("emit (" + std::to_string(out.source.size() / 1024) + " KiB)");
  return {std::move(out.source), std::move(out.header), nonfinite_weights(model)};
}

}  // namespace

Generated generate(const CompileOptions& opt) {
  return within_memory(opt.model, [&] { return generate_unchecked(opt); });
}

void compile_file(const CompileOptions& opt) {
  const bool to_stdout = opt.output == "-";
  std::vector<std::string> paths;
  if (!to_stdout) paths.push_back(opt.output);
  if (!opt.header.empty()) paths.push_back(opt.header);
  std::vector<std::string> read = {opt.model};
  if (!opt.weights.empty()) read.push_back(opt.weights);
  check_outputs(read, paths);  // before the model is read: a bad output path fails fast
  CompileOptions named = opt;
  if (to_stdout && named.name.empty()) named.output = namespace_from_path(opt.model) + ".cpp";
  Generated gen = generate(named);
  print_warnings(gen.warnings);
  std::vector<OutputFile> files;
  if (!to_stdout) files.push_back({opt.output, std::move(gen.source)});
  if (!opt.header.empty()) files.push_back({opt.header, std::move(gen.header)});
  Stages stages(opt.verbose);
  write_outputs(read, files);
  if (to_stdout && (std::fwrite(gen.source.data(), 1, gen.source.size(), stdout) != gen.source.size() ||
                    std::fflush(stdout) != 0))
    throw Error("-: cannot write the generated source to standard output");
  stages.done("write");
}

}  // namespace kc2cpp::driver
