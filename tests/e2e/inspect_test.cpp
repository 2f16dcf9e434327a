// `kc2cpp inspect`: per-layer parameter counts and the totals equal what Keras itself reported
// (recorded in each fixture's JSON by tests/fixtures/gen_fixtures.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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

// After "<name> (<Class>)": the shape "(None, 3)" or "[(None, 3), (None, 4)]" (or any one word in
// its place) and the parameter count "1,056".
bool parse_layer_line(const std::string& line, size_t head, std::string& shape, std::string& params) {
  size_t at = line.find_first_not_of(' ', head);
  if (at == std::string::npos) return false;
  const size_t close = line[at] == '(' ? line.find(')', at) : line[at] == '[' ? line.find(']', at) : line.find(' ', at) - 1;
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
  if (!shape.empty() && shape[0].is_array()) {  // several outputs: "[(None, 6, 3), (None, 6, 6)]"
    std::string s;
    for (const nlohmann::json& one : shape) s += (s.empty() ? "" : ", ") + keras_shape(one);
    return "[" + s + "]";
  }
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i].is_null() ? std::string("None") : std::to_string(shape[i].get<int64_t>()));
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Whether inspect's shape text equals Keras's. Keras 3's EinsumDense reports its config's
// output_shape as given, None where the equation takes the size from the input ("(None, None, 3)"
// for what is (None, 4, 3)): a None after the batch axis stands for any size there.
bool same_shape(const std::string& ours, const std::string& keras) {
  if (ours == keras) return true;
  size_t i = 0, j = 0;
  bool first = true;
  while (i < ours.size() && j < keras.size()) {
    if (!first && keras.compare(j, 4, "None") == 0 && std::isdigit(static_cast<unsigned char>(ours[i]))) {
      j += 4;
      while (i < ours.size() && std::isdigit(static_cast<unsigned char>(ours[i]))) ++i;
      continue;
    }
    if (ours[i] != keras[j]) return false;
    if (ours[i] == ',') first = false;
    ++i, ++j;
  }
  return i == ours.size() && j == keras.size();
}

// "Total params: 1,797 (7.02 KB)" from the JSON's counts; Keras 2 writes "Byte" where Keras 3 writes "B".
std::string total_line(const char* label, const nlohmann::json& counts) {
  std::string size = counts.value("size", "");
  if (size.size() > 5 && size.compare(size.size() - 5, 5, " Byte") == 0) size = size.substr(0, size.size() - 4) + "B";
  return std::string(label) + ": " + thousands(counts["count"].get<int64_t>()) + " (" + size + ")";
}

// The "layer[call][tensor]" references in `text`, in order.
std::vector<std::string> references(const std::string& text) {
  static const std::regex ref(R"([A-Za-z0-9_.\-]+\[[0-9]+\]\[[0-9]+\])");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), ref); it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

// Whether `ours` (kc2cpp's references, complete) is what Keras's cell shows: the same references,
// or where Keras 3 cut the cell short with "…", its complete references followed by a reference that
// begins with the text before the "…".
bool same_references(const std::vector<std::string>& ours, const std::string& cell) {
  const std::vector<std::string> keras = references(cell);
  const size_t cut = cell.find("\xe2\x80\xa6");
  if (cut == std::string::npos) return ours == keras;
  size_t from = cut;
  while (from > 0 && (std::isalnum(static_cast<unsigned char>(cell[from - 1])) ||
                      std::strchr("_.-[]", cell[from - 1]) != nullptr))
    --from;
  const std::string fragment = cell.substr(from, cut - from);
  if (ours.size() <= keras.size() || !std::equal(keras.begin(), keras.end(), ours.begin())) return false;
  return ours[keras.size()].rfind(fragment, 0) == 0;
}

// Keras's "Connected to" cell of layer `name (cls)` in its summary text (Keras 3's table or tf.keras
// 2's columns, wrapped over several lines): the row's lines up to the next separator.
// The text of a row's first column: from the first character that is not a space or Keras 3's box
// rule up to two spaces.
std::string first_cell(const std::string& line) {
  const size_t first = line.find_first_not_of(" \xe2\x94\x82");
  if (first == std::string::npos) return "";
  const size_t end = line.find("  ", first);
  return line.substr(first, end == std::string::npos ? std::string::npos : end - first);
}

// Whether lines[i] starts the row of `head` ("name (Class)"): the line begins with it, or Keras wrapped
// a long cell over the next lines: tf.keras 2 anywhere ("expanded_conv_depthwise (Depthwis" /
// "eConv2D)"), Keras 3 at a space ("expanded_conv_depthwise" / "(DepthwiseConv2D)").
bool starts_row(const std::vector<std::string>& lines, size_t i, const std::string& head) {
  const size_t first = lines[i].find_first_not_of(" \xe2\x94\x82");
  if (first == std::string::npos) return false;
  if (lines[i].compare(first, head.size(), head) == 0) return true;
  std::string tight = first_cell(lines[i]), spaced = tight;
  if (tight.empty()) return false;
  for (size_t j = i + 1; j < lines.size() && spaced.size() < head.size(); ++j) {
    const std::string more = first_cell(lines[j]);
    if (more.empty()) break;
    tight += more;
    spaced += " " + more;
    if (tight == head || spaced == head) return true;
  }
  return false;
}

std::string keras_connected(const std::string& summary, const std::string& name, const std::string& cls) {
  std::istringstream in(summary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::string head = name + " (" + cls + ")";
  std::string cell;
  bool inside = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t first = line.find_first_not_of(" \xe2\x94\x82");
    const bool row = starts_row(lines, i, head);
    if (inside && (row || first == std::string::npos || line.rfind("\xe2\x94\x9c", 0) == 0 ||
                   line.rfind("\xe2\x94\x94", 0) == 0 || line.rfind("=", 0) == 0))
      break;
    if (row) {
      inside = true;
      const bool whole = line.compare(first, head.size(), head) == 0;
      cell += line.substr(first + (whole ? head.size() : first_cell(line).size())) + "\n";
    } else if (inside) {
      cell += line + "\n";
    }
  }
  return cell;
}

TEST(Inspect, ParamCountsEqualKeras) {
  ASSERT_FALSE(fixtures().empty());
  int layers = 0, connections = 0;
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
      // Keras 3.12's MultiHeadAttention reports its scores as (heads, Tq, Tq) (its compute_output_shape
      // takes the query's length for the key's); inspect prints the real (heads, Tq, Tv).
      const bool keras_wrong = (f.id == "k3/mha_cross_scores" || f.id == "k3/mha_causal_cross_scores") && name == "mha";
      if (!keras_wrong) {
        EXPECT_TRUE(same_shape(shape, keras_shape(layer["output_shape"])))
            << f.id << ": layer " << name << ": " << line << "\nKeras's shape: " << keras_shape(layer["output_shape"]);
      }
      const std::string keras_summary = meta["summary"];
      if (keras_summary.find("Connected to") != std::string::npos) {
        EXPECT_NE(r.out.find("Connected to"), std::string::npos) << f.id << ": no Connected to column:\n" << r.out;
        const std::string cell = keras_connected(keras_summary, name, cls);
        EXPECT_TRUE(same_references(references(line), cell))
            << f.id << ": layer " << name << ": " << line << "\nKeras's cell: " << cell;
        ++connections;
      } else {
        EXPECT_EQ(r.out.find("Connected to"), std::string::npos) << f.id << ": Keras shows no Connected to column";
      }
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
  std::printf("[ inspect  ] %zu fixtures, %d layers: parameter counts, shapes and totals checked against Keras's; "
              "%d Connected to cells\n", fixtures().size(), layers, connections);
}

}  // namespace
}  // namespace kc2cpp::e2e
