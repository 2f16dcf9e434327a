// The legacy HDF5 loader: Keras 3 and tf.keras 2.x files written by model.save("model.h5").
//
// Order of checks (each failure names the file and says what to do):
//   1. the path: exists, is a file, can be read, is not empty;
//   2. the first bytes: an HDF5 signature, else say what the file is instead (zip / .keras, JSON, text);
//   3. HDF5 opens it (else damaged or truncated);
//   4. a root attribute model_config (else: weights-only file, or not a Keras file);
//   5. model_config is JSON (NaN/Infinity accepted) with class_name and config;
//   6. model_weights: layer_names in order, each layer's weight_names datasets as float32.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include "error.h"
#include "load/hdf5.h"
#include "load/keras_model.h"

namespace kc2cpp::load {
namespace {

constexpr const char* kSaveAdvice = "save the model with model.save('model.h5')";

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

// ---- 1 and 2: what is this file? --------------------------------------------------------------

const std::string kHdf5Signature("\x89HDF\r\n\x1a\n", 8);

std::string read_bytes(std::FILE* f, long offset, size_t count) {
  std::string buf(count, '\0');
  if (std::fseek(f, offset, SEEK_SET) != 0) return "";
  buf.resize(std::fread(buf.data(), 1, count, f));
  return buf;
}

// HDF5 looks for its signature at 0, 512, 1024, 2048, ... (after an optional user block).
bool has_hdf5_signature(std::FILE* f, uint64_t size) {
  for (uint64_t at = 0; at + 8 <= size; at = at == 0 ? 512 : at * 2)
    if (read_bytes(f, static_cast<long>(at), 8) == kHdf5Signature) return true;
  return false;
}

bool looks_like_text(const std::string& head) {
  for (unsigned char c : head)
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
  return true;
}

// The message for a file that is not HDF5, from what it looks like instead.
std::string describe_non_hdf5(std::FILE* f, uint64_t size, const std::string& head) {
  if (kHdf5Signature.compare(0, head.size(), head) == 0)
    return "the file is truncated (only " + std::to_string(size) + " bytes, shorter than an HDF5 header); "
           "copy the file again or " + kSaveAdvice;
  if (head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0) {
    // A zip's member names are stored uncompressed in its central directory at the end.
    long tail = static_cast<long>(size > 65536 ? size - 65536 : 0);
    std::string names = read_bytes(f, 0, 4096) + read_bytes(f, tail, 65536);
    if (names.find("config.json") != std::string::npos)
      return "this is a Keras 3 .keras zip archive; kc2cpp does not read .keras files yet: "
             "load it in Python and save it with model.save('model.h5')";
    return std::string("this is a zip archive, not a Keras model file; ") + kSaveAdvice;
  }
  size_t first = head.find_first_not_of(" \t\r\n");
  if (looks_like_text(head) && first != std::string::npos && (head[first] == '{' || head[first] == '['))
    return "this is JSON text, not an HDF5 file; an architecture saved with model.to_json() has no weights: "
           "save the full model with model.save('model.h5')";
  if (looks_like_text(head)) return std::string("this is a text file, not an HDF5 file; ") + kSaveAdvice;
  return "this is not an HDF5 file (no HDF5 signature); kc2cpp reads Keras models saved with "
         "model.save('model.h5')";
}

// Checks steps 1 and 2; returns the file's size.
uint64_t check_hdf5_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      fail(path, "file not found; check the path (kc2cpp reads a Keras model saved with model.save('model.h5'))");
    fail(path, std::string("cannot be accessed (") + std::strerror(errno) + "); check the path and permissions");
  }
  if (S_ISDIR(st.st_mode))
    fail(path, "this is a directory, not a model file; a TensorFlow SavedModel directory is not supported: "
               "load it in Python and save it with model.save('model.h5')");
  require_not_special(path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    fail(path, std::string("cannot be read (") + std::strerror(errno) + "); check the file's permissions");
  struct Closer {
    void operator()(std::FILE* p) const { std::fclose(p); }
  };
  std::unique_ptr<std::FILE, Closer> closer(f);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0)
    fail(path, "the file is empty (0 bytes); the save was interrupted or the copy failed: "
               "save the model again with model.save('model.h5')");
  if (has_hdf5_signature(f, size)) return size;
  fail(path, describe_non_hdf5(f, size, read_bytes(f, 0, 4096)));
}

// ---- 4: files without a model config ----------------------------------------------------------

[[noreturn]] void fail_without_config(const std::string& path, const h5::File& file) {
  hid_t root = file.root();
  if (h5::has_attr(root, "layer_names") || h5::has_attr(root, "layer_names0"))
    fail(path, "this is a weights-only file (written by model.save_weights()): it holds layer weights but no "
               "model architecture (no 'model_config' attribute); pass the full model saved with "
               "model.save('model.h5')");
  if (h5::has_link(root, "layers") || h5::has_link(root, "vars"))
    fail(path, "this is a Keras 3 weights-only file (*.weights.h5, written by model.save_weights()): it has no "
               "model architecture; pass the full model saved with model.save('model.h5')");
  fail(path, "this is an HDF5 file but not a Keras model (no 'model_config' attribute at its root); "
             "pass the full model saved with model.save('model.h5')");
}

// ---- 5: the config JSON -----------------------------------------------------------------------

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

bool restore_non_finite(int, nlohmann::json::parse_event_t event, nlohmann::json& value) {
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
std::string parse_error_detail(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  size_t at = what.find("parse error");
  size_t colon = at == std::string::npos ? std::string::npos : what.find(": ", at);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

nlohmann::json parse_config(const std::string& path, const std::string& text) {
  std::vector<Edit> edits;
  std::string patched = patch_non_finite(text, edits);
  try {
    if (edits.empty()) return nlohmann::json::parse(patched);
    return nlohmann::json::parse(patched, restore_non_finite);
  } catch (const nlohmann::json::parse_error& e) {
    size_t byte = original_position(e.byte == 0 ? 0 : e.byte - 1, edits) + 1;  // nlohmann counts from 1
    fail(path, "the model_config attribute is not valid JSON: at byte " + std::to_string(byte) + " of " +
                   std::to_string(text.size()) + ": " + parse_error_detail(e) +
                   "; the file is damaged: save the model again with model.save('model.h5')");
  }
}

void check_config(const std::string& path, const nlohmann::json& config) {
  const std::string intro = "the model_config attribute is not a Keras model config: ";
  const std::string advice = "; was the file written by Keras model.save()? Save the model with model.save('model.h5')";
  if (!config.is_object())
    fail(path, intro + "it is a JSON " + config.type_name() + ", not an object" + advice);
  auto cls = config.find("class_name");
  if (cls == config.end() || !cls->is_string()) fail(path, intro + "it has no \"class_name\" string" + advice);
  auto body = config.find("config");
  // Keras < 2.2.3 wrote a Sequential model's config as the list of its layers.
  if (body == config.end() || !(body->is_object() || body->is_array()))
    fail(path, intro + "it has no \"config\" object" + advice);
}

// ---- 6: the weights ---------------------------------------------------------------------------

std::string first_string(const h5::File& file, hid_t obj, const std::string& name) {
  if (!h5::has_attr(obj, name)) return "";
  std::vector<std::string> v = h5::read_strings(file, obj, name);
  return v.empty() ? "" : v[0];
}

LayerWeights read_layer(const h5::File& file, hid_t weights_root, const std::string& layer) {
  // Names are paths relative to the weights group; a layer name with '/' is a nested group.
  if (!h5::has_path(weights_root, layer))
    throw h5::Failure("layer '" + layer + "' is listed in the layer_names of " + h5::path_of(weights_root) +
                      " but has no group there");
  h5::Handle group = h5::open_group(weights_root, layer);
  LayerWeights out{layer, {}};
  for (const std::string& name : h5::read_chunked_strings(file, group.get(), "weight_names")) {
    if (!h5::has_path(group.get(), name))
      throw h5::Failure("weight '" + name + "' is listed in the weight_names of " + h5::path_of(group.get()) +
                        " but there is no such dataset");
    h5::Array a = h5::read_dataset(file, group.get(), name);
    out.arrays.push_back(NamedArray{name, std::move(a.shape), std::move(a.data)});
  }
  return out;
}

void read_weights(const std::string& path, const h5::File& file, KerasModel& model) {
  hid_t root = file.root();
  h5::Handle group;
  hid_t weights_root = root;  // Keras 1 kept the layer groups at the root
  if (h5::has_link(root, "model_weights")) {
    group = h5::open_group(root, "model_weights");
    weights_root = group.get();
  } else if (!h5::has_attr(root, "layer_names") && !h5::has_attr(root, "layer_names0")) {
    fail(path, "the file has a model config but no weights (no 'model_weights' group); the file is incomplete: "
               "save the model again with model.save('model.h5')");
  }
  if (model.keras_version.empty()) model.keras_version = first_string(file, weights_root, "keras_version");
  if (model.backend.empty()) model.backend = first_string(file, weights_root, "backend");
  for (const std::string& layer : h5::read_chunked_strings(file, weights_root, "layer_names"))
    model.layers.push_back(read_layer(file, weights_root, layer));
}

h5::File open_hdf5(const std::string& path, uint64_t size) {
  try {
    return h5::File::open(path, size);
  } catch (const h5::Failure& e) {
    fail(path, std::string("this HDF5 file is damaged or truncated (") + e.what() +
                   "); copy the file again or save the model again with model.save('model.h5')");
  }
}

KerasModel read_model(const std::string& path, const h5::File& file) {
  hid_t root = file.root();
  if (!h5::has_attr(root, "model_config")) fail_without_config(path, file);
  KerasModel model;
  model.path = path;
  std::string text;
  for (const std::string& part : h5::read_strings(file, root, "model_config")) text += part;
  if (text.empty())
    fail(path, "the model_config attribute is empty; the file is damaged: save the model again with "
               "model.save('model.h5')");
  model.config = parse_config(path, text);
  check_config(path, model.config);
  model.keras_version = first_string(file, root, "keras_version");
  model.backend = first_string(file, root, "backend");
  read_weights(path, file, model);
  return model;
}

}  // namespace

void require_not_special(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return;
  const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO (named pipe)"
                     : S_ISCHR(st.st_mode) ? "a character device"
                     : S_ISBLK(st.st_mode) ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a special file";
  fail(path, std::string("is ") + kind + ", not a regular file; kc2cpp reads a model file saved with "
                                         "model.save('model.h5') (copy the model into a file first)");
}

const LayerWeights* KerasModel::weights_of(const std::string& name) const {
  for (const LayerWeights& l : layers)
    if (l.layer == name) return &l;
  return nullptr;
}

KerasModel load_model_in_process(const std::string& path) {
  uint64_t size = check_hdf5_file(path);
  h5::silence_errors();
  try {
    h5::File file = open_hdf5(path, size);
    return read_model(path, file);
  } catch (const h5::Refused& e) {
    fail(path, std::string("refused: ") + e.what() + "; kc2cpp reads only what Keras's model.save('model.h5') "
                                                     "writes into the model file itself: save the model that way");
  } catch (const h5::Unsupported& e) {
    fail(path, std::string(e.what()) + "; convert the model's weights to float32 before saving it with "
                                       "model.save('model.h5')");
  } catch (const h5::Failure& e) {
    fail(path, std::string("cannot read the model: ") + e.what() +
                   "; the file is probably damaged or truncated: copy it again or save the model again "
                   "with model.save('model.h5')");
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(path + ": the file claims sizes too large to read; it is probably damaged: copy it again or "
                             "save the model again with model.save('model.h5')");
  } catch (const std::length_error&) {
    fail(path, "the file claims sizes too large to read; it is probably damaged: copy it again or save "
               "the model again with model.save('model.h5')");
  }
}

}  // namespace kc2cpp::load
