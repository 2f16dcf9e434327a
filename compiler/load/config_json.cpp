#include "load/config_json.h"

#include <cstring>
#include <limits>
#include <vector>

#include "error.h"

namespace kc2cpp::load {
namespace {

// Python's json module writes NaN, Infinity and -Infinity as bare words, which JSON forbids.
// Outside strings they are replaced by marker strings that the parse callback turns back into
// numbers; the edits let a parse error's position be mapped back to the original text.
struct Edit {
  size_t patched_begin, patched_end;    // the marker, in the patched text
  size_t original_begin, original_end;  // the bare word, in the original text
};

struct NonFinite {
  const char* word;         // as Python writes it
  const char* json_marker;  // the JSON string literal replacing it
  float value;
};

const NonFinite kNonFinite[] = {
    {"-Infinity", "\"\\u0000kc2cpp:-Inf\"", -std::numeric_limits<float>::infinity()},
    {"Infinity", "\"\\u0000kc2cpp:+Inf\"", std::numeric_limits<float>::infinity()},
    {"NaN", "\"\\u0000kc2cpp:NaN\"", std::numeric_limits<float>::quiet_NaN()},
};

std::string decoded_marker(const NonFinite& n) {
  std::string m(n.json_marker + 7);  // after the quote and \u0000: kc2cpp:NaN"
  m.pop_back();
  return std::string(1, '\0') + m;
}

const NonFinite* non_finite_at(const std::string& text, size_t i) {
  for (const NonFinite& n : kNonFinite)
    if (text.compare(i, std::strlen(n.word), n.word) == 0) return &n;
  return nullptr;
}

std::string patch_non_finite(const std::string& text, std::vector<Edit>& edits) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    const NonFinite* n = in_string ? nullptr : non_finite_at(text, i);
    if (n != nullptr) {
      size_t len = std::strlen(n->word);
      edits.push_back({out.size(), out.size() + std::strlen(n->json_marker), i, i + len});
      out += n->json_marker;
      i += len - 1;
      continue;
    }
    out += c;
    if (!in_string) {
      in_string = c == '"';
    } else if (c == '\\' && i + 1 < text.size()) {
      out += text[++i];
    } else if (c == '"') {
      in_string = false;
    }
  }
  return out;
}

size_t original_position(size_t patched, const std::vector<Edit>& edits) {
  const Edit* last = nullptr;
  for (const Edit& e : edits)
    if (e.patched_begin <= patched) last = &e;
  if (last == nullptr) return patched;
  if (patched < last->patched_end) return last->original_begin;
  return patched - last->patched_end + last->original_end;
}

// Deeper nesting is refused while parsing: nlohmann's copy, dump and CBOR encoding recurse once per
// level (a 30,000-deep list overflowed the stack); a Keras config nests a few dozen levels.
constexpr int kMaxJsonDepth = 1000;

struct TooDeep {};

// The parse callback: refuses nesting beyond kMaxJsonDepth and turns the markers back into numbers.
bool restore_non_finite(int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
  if (depth > kMaxJsonDepth) throw TooDeep{};
  if (event != nlohmann::json::parse_event_t::value || !value.is_string()) return true;
  const std::string& s = value.get_ref<const std::string&>();
  if (s.empty() || s[0] != '\0') return true;
  for (const NonFinite& n : kNonFinite)
    if (s == decoded_marker(n)) {
      value = n.value;
      break;
    }
  return true;
}

// nlohmann's description without its "[json.exception...] parse error at line L, column C: " prefix,
// whose position refers to the patched text.
std::string parse_error_detail(const nlohmann::json::exception& e) {
  std::string what = e.what();
  size_t at = what.find("parse error");
  size_t colon = at == std::string::npos ? std::string::npos : what.find(": ", at);
  if (colon != std::string::npos) return what.substr(colon + 2);
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

nlohmann::json parse_keras_json(const std::string& path, const std::string& text, const std::string& what,
                                const std::string& advice) {
  std::vector<Edit> edits;
  std::string patched = patch_non_finite(text, edits);
  try {
    return nlohmann::json::parse(patched, restore_non_finite);
  } catch (const TooDeep&) {
    throw Error(path + ": " + what + " nests lists and objects more than " + std::to_string(kMaxJsonDepth) +
                " deep, which no Keras model does; " + advice);
  } catch (const nlohmann::json::out_of_range& e) {  // a number beyond double: "number overflow parsing '1e400'"
    throw Error(path + ": " + what + " holds a number out of range (" + parse_error_detail(e) + "); " + advice);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t byte = original_position(e.byte == 0 ? 0 : e.byte - 1, edits) + 1;  // nlohmann counts from 1
    const std::string where = byte > text.size() ? "it ends too early (after byte " + std::to_string(text.size()) + ")"
                                                 : "at byte " + std::to_string(byte) + " of " + std::to_string(text.size());
    throw Error(path + ": " + what + " is not valid JSON: " + where + ": " + parse_error_detail(e) + "; " + advice);
  }
}

bool is_model_config(const nlohmann::json& config) {
  if (!config.is_object()) return false;
  auto cls = config.find("class_name");
  auto body = config.find("config");
  return cls != config.end() && cls->is_string() && body != config.end() && (body->is_object() || body->is_array());
}

void check_model_config(const std::string& path, const nlohmann::json& config, const std::string& what,
                        const std::string& advice) {
  const std::string intro = path + ": " + what + " is not a Keras model config: ";
  if (!config.is_object()) throw Error(intro + "it is a JSON " + config.type_name() + ", not an object; " + advice);
  auto cls = config.find("class_name");
  if (cls == config.end() || !cls->is_string()) throw Error(intro + "it has no \"class_name\" string; " + advice);
  auto body = config.find("config");
  // Keras < 2.2.3 wrote a Sequential model's config as the list of its layers.
  if (body == config.end() || !(body->is_object() || body->is_array()))
    throw Error(intro + "it has no \"config\" object; " + advice);
}

}  // namespace kc2cpp::load
