// `kc2cpp inspect`: per-layer parameter counts and the totals equal what Keras itself reported
// (recorded in each fixture's JSON by tests/fixtures/gen_fixtures.py).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "e2e_util.h"

namespace kc2cpp::e2e {
namespace {

std::string thousands(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// The line describing layer `name (cls)`, or "" if none.
std::string layer_line(const std::string& summary, const std::string& name, const std::string& cls) {
  std::istringstream in(summary);
  const std::string head = name + " (" + cls + ")";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(head, 0) == 0 && (line.size() == head.size() || line[head.size()] == ' ')) return line;
  return "";
}

// After "<name> (<Class>)": the shape "(None, 3)" (or any one word in its place) and the parameter
// count "1,056".
bool parse_layer_line(const std::string& line, size_t head, std::string& shape, std::string& params) {
  size_t at = line.find_first_not_of(' ', head);
  if (at == std::string::npos) return false;
  const size_t close = line[at] == '(' ? line.find(')', at) : line.find(' ', at) - 1;
  if (close >= line.size()) return false;
  shape = line.substr(at, close + 1 - at);
  at = line.find_first_not_of(' ', close + 1);
  if (at == std::string::npos) return false;
  const size_t end = line.find(' ', at);
  params = line.substr(at, end == std::string::npos ? std::string::npos : end - at);
  return true;
}

// Keras's "(None, 5, 6)" from the JSON's [null, 5, 6] (tf.keras 2 writes an InputLayer's as [[null, 10]]).
std::string keras_shape(const nlohmann::json& shape) {
  if (shape.size() == 1 && shape[0].is_array()) return keras_shape(shape[0]);
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i].is_null() ? std::string("None") : std::to_string(shape[i].get<int64_t>()));
  return s + (shape.size() == 1 ? ",)" : ")");
}

// "Total params: 1,797 (7.02 KB)" from the JSON's counts; Keras 2 writes "Byte" where Keras 3 writes "B".
std::string total_line(const char* label, const nlohmann::json& counts) {
  std::string size = counts.value("size", "");
  if (size.size() > 5 && size.compare(size.size() - 5, 5, " Byte") == 0) size = size.substr(0, size.size() - 4) + "B";
  return std::string(label) + ": " + thousands(counts["count"].get<int64_t>()) + " (" + size + ")";
}

TEST(Inspect, ParamCountsEqualKeras) {
  ASSERT_FALSE(fixtures().empty());
  int layers = 0;
  for (const Fixture& f : fixtures()) {
    const RunResult r = run({kc2cpp_bin(), "inspect", f.h5()});
    if (r.exit_code != 0) {
      ADD_FAILURE() << f.id << ": kc2cpp inspect failed:\n" << r.err;
      continue;
    }
    const nlohmann::json meta = nlohmann::json::parse(read_file(f.json()));
    for (const nlohmann::json& layer : meta["layers"]) {
      const std::string name = layer["name"], cls = layer["class_name"];
      const std::string line = layer_line(r.out, name, cls);
      if (line.empty()) {
        ADD_FAILURE() << f.id << ": no line for layer " << name << " (" << cls << ") in:\n" << r.out;
        continue;
      }
      std::string shape, params;
      if (!parse_layer_line(line, name.size() + cls.size() + 3, shape, params)) {
        ADD_FAILURE() << f.id << ": cannot parse the line of layer " << name << " (expected shape, then param "
                      << "count): '" << line << "'";
        continue;
      }
      EXPECT_EQ(params, thousands(layer["param_count"].get<int64_t>())) << f.id << ": layer " << name << ": " << line;
      EXPECT_EQ(shape, keras_shape(layer["output_shape"])) << f.id << ": layer " << name << ": " << line;
      ++layers;
    }
    // Counts: the model's own (model.count_params() and its trainable/non-trainable split). The size in
    // parentheses is checked against Keras's summary text where that counts the same thing (Keras 3
    // adds the optimizer's variables to "Total params" of a compiled model; kc2cpp does not).
    const nlohmann::json& summary = meta["summary_counts"];
    for (const auto& [label, key] : {std::pair<const char*, const char*>{"Total params", "total"},
                                     {"Trainable params", "trainable"},
                                     {"Non-trainable params", "non_trainable"}}) {
      const int64_t count = meta["params"][key].get<int64_t>();
      std::string want = std::string(label) + ": " + thousands(count) + " (";
      if (summary.contains(key) && summary[key].value("count", int64_t{-1}) == count) want = total_line(label, summary[key]);
      EXPECT_NE(r.out.find("\n" + want), std::string::npos) << f.id << ": expected '" << want << "' in:\n" << r.out;
    }
  }
  std::printf("[ inspect  ] %zu fixtures, %d layers: parameter counts, shapes and totals checked against Keras's\n",
              fixtures().size(), layers);
}

}  // namespace
}  // namespace kc2cpp::e2e
