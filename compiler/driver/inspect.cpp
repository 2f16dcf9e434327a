// `kc2cpp inspect`: what Keras's model.summary() prints, plus what the generated code needs.
#include <cstdio>
#include <map>

#include "driver/driver.h"
#include "lower/lower.h"
#include "plan/plan.h"

namespace kc2cpp::driver {
namespace {

std::string thousands(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// Keras's readable_memory_size: 1024-based units, two decimals.
std::string memory(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s + ' ';
}

std::string activation_of(const nlohmann::json& cfg) {
  auto it = cfg.find("activation");
  if (it == cfg.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("config") && (*it)["config"].is_string()) return (*it)["config"];
  return it->dump();
}

}  // namespace

std::string inspect(const std::string& model_path, const std::string& weights_path, uint64_t max_memory) {
  return inspect_model(load_model_warning(model_path, weights_path, max_memory));
}

std::string inspect_model(const load::KerasModel& model) {
  lower::ModelSummary summary;
  lower::lower(model, &summary);  // validates, and gives every layer's output shape and inputs
  const ir::Graph g = compile_graph(model, ir::FpMode::Unfused);
  const plan::Plan plan = plan::make_plan(g);

  const nlohmann::json& cfg = model.config["config"];
  std::map<std::string, const nlohmann::json*> config_of;  // layer name -> its config
  for (const nlohmann::json& layer : cfg["layers"]) {
    auto c = layer.find("config");
    if (c == layer.end() || !c->is_object()) continue;
    // The name where lower::layer_of takes it: the entry's "name", else its config's.
    const nlohmann::json& named = layer.contains("name") && layer["name"].is_string() ? layer : *c;
    auto n = named.find("name");
    if (n != named.end() && n->is_string()) config_of[n->get<std::string>()] = &*c;
  }
  static const nlohmann::json kNoConfig = nlohmann::json::object();
  const std::string title = cfg.value("name", nlohmann::json("model")).is_string() ? cfg.value("name", std::string("model")) : "model";
  std::string out = "Model: \"" + title + "\"\n";
  out += pad("Layer (type)", 40) + pad("Output Shape", 22) + pad("Param #", 12) +
         (summary.graph ? pad("Activation", 12) + "Connected to\n" : "Activation\n");
  // wide: values tf.keras 2 sizes at 8 bytes in its summary (Normalization's int64 `count`).
  int64_t total = 0, non_trainable = 0, wide = 0;
  const bool keras2 = !model.keras_version.empty() && model.keras_version[0] == '2';
  for (const lower::LayerSummary& s : summary.layers) {
    const std::string& name = s.name;
    const std::string& cls = s.class_name;
    const nlohmann::json& lc = config_of.count(name) ? *config_of[name] : kNoConfig;
    int64_t params = 0;
    if (const load::LayerWeights* w = model.weights_of(name)) {
      for (const load::NamedArray& a : w->arrays) {
        int64_t n = 1;
        for (int64_t d : a.shape) n *= d;
        params += n;
        // Non-trainable: a frozen layer's, BatchNormalization's moving statistics, Normalization's adapted ones.
        if (lc.value("trainable", nlohmann::json(true)) == false || a.name.find("moving_") != std::string::npos || cls == "Normalization")
          non_trainable += n;
        if (keras2 && cls == "Normalization" && a.name.find("count") != std::string::npos) wide += n;
      }
    }
    total += params;
    std::string connected;
    for (const std::string& in : s.inbound) connected += (connected.empty() ? "" : ", ") + in;
    const std::string act = activation_of(lc);
    // Keras 3's form for several outputs: "[(None, 6, 3), (None, 6, 6)]".
    std::string shape = s.lowered ? "" : "?";
    for (const ir::Shape& o : s.output_shapes) shape += (shape.empty() ? "" : ", ") + ir::to_string(o);
    if (s.output_shapes.size() > 1) shape = "[" + shape + "]";
    out += pad(name + " (" + cls + ")", 40) + pad(shape, 22) +
           pad(thousands(params), 12) +
           (summary.graph ? pad(act.empty() ? "-" : act, 12) + (connected.empty() ? "-" : connected) : act) + "\n";
  }
  out += "Total params: " + thousands(total) + " (" + memory((total + wide) * 4) + ")\n";
  out += "Trainable params: " + thousands(total - non_trainable) + " (" + memory((total - non_trainable) * 4) + ")\n";
  out += "Non-trainable params: " + thousands(non_trainable) + " (" + memory((non_trainable + wide) * 4) + ")\n";
  out += "Saved by: Keras " + (model.keras_version.empty() ? "(unknown version)" : model.keras_version) + ", " +
         (model.backend.empty() ? "unknown" : model.backend) + " backend\n";
  int64_t weight_floats = 0, avx2 = 0, avx512 = 0;  // emitted floats: unpadded (SSE2, NEON, scalar), AVX2, AVX-512
  for (const plan::PackedWeight& w : plan.weights) {
    weight_floats += plan::emitted_floats(w, 1);
    avx2 += plan::emitted_floats(w, 8);
    avx512 += plan::emitted_floats(w, 16);
  }
  out += "Generated code: workspace (arena) " + thousands(plan.arena_floats * 4) + " bytes (one buffer per tensor: " +
         thousands(plan.unshared_floats * 4) + "); weights " + thousands(weight_floats * 4) +
         " bytes (read-only; on AVX2 " + thousands(avx2 * 4) + ", on AVX-512 " + thousands(avx512 * 4) + ", rows padded to whole vectors)\n";
  return out;
}

}  // namespace kc2cpp::driver
