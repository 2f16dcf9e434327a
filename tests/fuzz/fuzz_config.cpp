// libFuzzer target: a model config through lowering -> passes -> plan -> emit (and `inspect`), then
// the reference evaluator on small models. The input is what the loader hands to the lowering, as
// one JSON text (parsed like Keras's own JSON: NaN and Infinity accepted):
//   {"keras_version": "3.12.0",                     optional
//    "model_config": {"class_name": ..., "config": ...},
//    "weights": [["layer", "kernel", [20, 10]], ...]}  optional: the arrays, in the file's order
// The weights' values are made up here (deterministic, finite), so a mutated config meets arrays of
// the shapes the mutated manifest says, as it would from a real file. Seeds: tests/fuzz/seeds.cpp.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "driver/driver.h"
#include "emit/emit.h"
#include "eval/eval.h"
#include "fuzz_util.h"
#include "load/config_json.h"
#include "load/keras_model.h"
#include "plan/plan.h"

namespace {

using nlohmann::json;
namespace load = kc2cpp::load;
namespace ir = kc2cpp::ir;

constexpr int64_t kMaxWeightFloats = int64_t{1} << 22;  // more is skipped: the fuzzer is not to test RAM
constexpr int64_t kMaxEvalTensorFloats = int64_t{1} << 17;
constexpr int64_t kMaxEvalWeightFloats = int64_t{1} << 19;
constexpr int64_t kMaxEvalWork = int64_t{1} << 30;  // tensor floats x weight floats: a bound on eval's work

// Appends the array `entry` = ["layer", "name", [dims]] to `m` with made-up values; false if `entry`
// is not of that form or `budget` (floats left) is exceeded.
bool add_array(load::KerasModel& m, const json& entry, int64_t& budget) {
  if (!entry.is_array() || entry.size() != 3 || !entry[0].is_string() || !entry[1].is_string() || !entry[2].is_array())
    return false;
  load::NamedArray a;
  a.name = entry[1].get<std::string>();
  int64_t n = 1;
  for (const json& d : entry[2]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > kMaxWeightFloats) return false;
    a.shape.push_back(d.get<int64_t>());
    n *= a.shape.back();
    if (n > budget) return false;
  }
  budget -= n;
  a.data.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] = static_cast<float>(static_cast<int>((i * 2654435761u >> 7) % 2001) - 1000) / 1000.0f;
  const std::string layer = entry[0].get<std::string>();
  if (m.layers.empty() || m.layers.back().layer != layer) m.layers.push_back({layer, {}});
  m.layers.back().arrays.push_back(std::move(a));
  return true;
}

// The model the input describes; false if the input is not of the form above (not a finding).
bool model_of(const json& doc, load::KerasModel& m) {
  if (!doc.is_object()) return false;
  auto config = doc.find("model_config");
  auto version = doc.find("keras_version");
  auto weights = doc.find("weights");
  if (config == doc.end() || (version != doc.end() && !version->is_string()) ||
      (weights != doc.end() && !weights->is_array()))
    return false;
  m.path = "fuzz.json";
  m.config = *config;
  if (version != doc.end()) m.keras_version = version->get<std::string>();
  int64_t budget = kMaxWeightFloats;
  if (weights != doc.end())
    for (const json& entry : *weights)
      if (!add_array(m, entry, budget)) return false;
  return true;
}

// Inputs with every kind of value the generated code must survive: ordinary, zero, huge, NaN, Inf.
std::vector<std::vector<float>> inputs_for(const ir::Graph& g, int batch) {
  static const float kValues[] = {0.5f, -1.25f, 0.0f, 3.0f, 1e30f, -1e30f, __builtin_nanf(""), __builtin_inff(),
                                  -__builtin_inff(), 1e-40f, 65536.0f, -7.0f, 2.0f, 1.0f, -0.0f, 100.0f};
  std::vector<std::vector<float>> xs;
  for (int t : g.inputs) {
    std::vector<float> x(static_cast<size_t>(ir::num_elements(g.tensors[t].shape) * batch));
    for (size_t i = 0; i < x.size(); ++i) x[i] = kValues[(i * 7 + xs.size()) % 16];
    xs.push_back(std::move(x));
  }
  return xs;
}

bool small_enough_to_evaluate(const ir::Graph& g) {
  int64_t tensors = 0, weights = 0;
  for (const ir::Tensor& t : g.tensors) tensors += ir::num_elements(t.shape);
  for (const ir::Weight& w : g.weights) weights += static_cast<int64_t>(w.data.size());
  return tensors <= kMaxEvalTensorFloats && weights <= kMaxEvalWeightFloats &&
         tensors * (weights + 1) <= kMaxEvalWork;
}

void compile_and_run(const load::KerasModel& m) {
  kc2cpp::driver::inspect_model(m);
  const ir::Graph g = kc2cpp::driver::compile_graph(m, ir::FpMode::Unfused);
  const kc2cpp::plan::Plan plan = kc2cpp::plan::make_plan(g);
  kc2cpp::emit::emit(g, plan, {"fuzz", "fuzz.json", "fuzz.h"});
  if (small_enough_to_evaluate(g)) kc2cpp::eval::evaluate(g, inputs_for(g, 2), 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kc2cpp::fuzz::expect_only_errors([&] {
    const json doc = load::parse_keras_json("fuzz.json", text, "the input", "fix it");
    load::KerasModel m;
    if (!model_of(doc, m)) return;
    load::check_model_config(m.path, m.config, "model_config", "fix it");
    compile_and_run(m);
  });
  return 0;
}
