#include "driver/driver.h"

#include <cmath>
#include <cstdio>
#include <new>

#include "driver/output.h"
#include "emit/emit.h"
#include "emit/naming.h"
#include "error.h"
#include "eval/eval.h"
#include "load/npy.h"
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
                    "; the generated code computes with them as they are (its outputs may be NaN): check the training");
    }
  return out;
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
  const load::KerasModel model = load::load_model(opt.model, opt.weights, opt.max_memory, opt.load_timeout);
  const ir::Graph g = compile_graph(model, opt.fp);
  const plan::Plan plan = plan::make_plan(g);
  emit::Output out = emit::emit(g, plan, eo);
  return {std::move(out.source), std::move(out.header), nonfinite_weights(model)};
}

}  // namespace

Generated generate(const CompileOptions& opt) {
  return within_memory(opt.model, [&] { return generate_unchecked(opt); });
}

void compile_file(const CompileOptions& opt) {
  std::vector<std::string> paths = {opt.output};
  if (!opt.header.empty()) paths.push_back(opt.header);
  std::vector<std::string> read = {opt.model};
  if (!opt.weights.empty()) read.push_back(opt.weights);
  check_outputs(read, paths);  // before the model is read: a bad output path fails fast
  Generated gen = generate(opt);
  for (const std::string& w : gen.warnings) std::fprintf(stderr, "kc2cpp: warning: %s\n", w.c_str());
  std::vector<OutputFile> files = {{opt.output, std::move(gen.source)}};
  if (!opt.header.empty()) files.push_back({opt.header, std::move(gen.header)});
  write_outputs({opt.model}, files);
}

void eval_files(const std::string& model_path, const std::string& weights_path, const std::vector<std::string>& inputs,
                const std::vector<std::string>& outputs, ir::FpMode fp, uint64_t max_memory) {
  std::vector<std::string> read = {model_path};
  if (!weights_path.empty()) read.push_back(weights_path);
  read.insert(read.end(), inputs.begin(), inputs.end());
  check_outputs(read, outputs);  // before anything is read: a bad output path fails fast
  const ir::Graph g = compile_graph(load::load_model(model_path, weights_path, max_memory), fp);
  if (inputs.size() != g.inputs.size() || outputs.size() != g.outputs.size())
    throw Error(model_path + ": the model has " + std::to_string(g.inputs.size()) + " input(s) and " +
                std::to_string(g.outputs.size()) + " output(s); pass one --input and one --output for each");
  std::vector<std::vector<float>> xs;
  int64_t batch = -1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    load::NpyArray a = load::read_npy(inputs[k]);
    const int64_t per = ir::num_elements(g.tensors[g.inputs[k]].shape);
    const int64_t n = a.shape.empty() ? 0 : a.shape[0];
    if (n <= 0 || static_cast<int64_t>(a.data.size()) != n * per || (batch >= 0 && n != batch))
      throw Error(inputs[k] + ": expected [N, ...] samples of " + std::to_string(per) + " values for input " +
                  std::to_string(k) + " " + ir::to_string(g.tensors[g.inputs[k]].shape));
    batch = n;
    xs.push_back(std::move(a.data));
  }
  const auto ys = eval::evaluate(g, xs, static_cast<int>(batch));
  std::vector<OutputFile> files;
  for (size_t k = 0; k < outputs.size(); ++k) {
    load::NpyArray a;
    a.shape = {batch};
    for (int64_t d : g.tensors[g.outputs[k]].shape) a.shape.push_back(d);
    a.data = ys[k];
    files.push_back({outputs[k], load::encode_npy(outputs[k], a)});
  }
  write_outputs(read, files);
}

}  // namespace kc2cpp::driver
