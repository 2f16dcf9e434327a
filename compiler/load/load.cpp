// The loader's entry points: which file format, and the checks around reading it.
//
//   kc2cpp model.h5       legacy full-model HDF5 (Keras 3, tf.keras 2.x): model_config + model_weights
//   kc2cpp model.keras    Keras 3 zip: config.json, metadata.json, model.weights.h5 (read from memory)
//   kc2cpp model.json --weights w.weights.h5 | w.h5
//                         an architecture (model.to_json()) with a weights-only file in the Keras 3
//                         layout (weights_keras3.cpp) or the tf.keras save_weights() layout (legacy)
//
// Order of checks (each failure names the file and says what to do):
//   1. the path: exists, is a file, can be read, is not empty;
//   2. the first bytes: HDF5, zip or JSON as the command needs, else say what the file is instead;
//   3. the container opens (HDF5 or zip; else damaged or truncated);
//   4. the model config is there and is JSON (NaN/Infinity accepted) with class_name and config;
//   5. the weights, in the file's layout, as float32; for JSON + weights, that they fit the architecture.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>

#include "error.h"
#include "load/config_json.h"
#include "load/hdf5.h"
#include "load/keras_model.h"
#include "load/weights.h"
#include "load/zip.h"

namespace kc2cpp::load {
namespace {

constexpr const char* kSaveAdvice = "save the model with model.save('model.keras') or model.save('model.h5')";
constexpr const char* kPairAdvice =
    "save the architecture and the weights of the same model: model.to_json() and model.save_weights()";
// JSON texts (config.json, metadata.json, architecture files) above this size are refused: a
// keras.applications config is a few MB.
constexpr uint64_t kMaxJsonBytes = uint64_t{256} << 20;
// model.weights.h5 inside an archive: its declared size is checked against this and against what
// its compressed data can hold (zip.h); the largest Keras models' weights are a few GB.
constexpr uint64_t kMaxWeightsBytes = uint64_t{64} << 30;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

// ---- 1 and 2: what is this file? --------------------------------------------------------------

const std::string kHdf5Signature("\x89HDF\r\n\x1a\n", 8);

struct FileCloser {
  void operator()(std::FILE* p) const { std::fclose(p); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

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

bool image_has_hdf5_signature(const std::string& image) {
  for (uint64_t at = 0; at + 8 <= image.size(); at = at == 0 ? 512 : at * 2)
    if (image.compare(at, 8, kHdf5Signature) == 0) return true;
  return false;
}

bool looks_like_text(const std::string& head) {
  for (unsigned char c : head)
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
  return true;
}

enum class Kind { Hdf5, Zip, Json, Other };

struct Examined {
  Kind kind = Kind::Other;
  uint64_t size = 0;
  std::string head;      // the first 4 KiB
  std::string zip_names;  // for a zip: its first 4 KiB and last 64 KiB, where member names are stored
};

bool is_zip(const std::string& head) { return head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0; }

bool is_json_text(const std::string& head) {
  size_t first = head.find_first_not_of(" \t\r\n");
  return looks_like_text(head) && first != std::string::npos && (head[first] == '{' || head[first] == '[');
}

// Step 1 and the first bytes of step 2.
Examined examine(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      fail(path, "file not found; check the path (kc2cpp reads a Keras model saved with model.save('model.keras') "
                 "or model.save('model.h5'))");
    fail(path, std::string("cannot be accessed (") + std::strerror(errno) + "); check the path and permissions");
  }
  if (S_ISDIR(st.st_mode))
    fail(path, "this is a directory, not a model file; a TensorFlow SavedModel directory is not supported: "
               "load it in Python and save it with model.save('model.keras')");
  require_not_special(path);
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, std::string("cannot be read (") + std::strerror(errno) + "); check the file's permissions");
  Examined e;
  e.size = static_cast<uint64_t>(st.st_size);
  if (e.size == 0)
    fail(path, "the file is empty (0 bytes); the save was interrupted or the copy failed: "
               "save the model again with model.save('model.keras')");
  e.head = read_bytes(f.get(), 0, 4096);
  if (has_hdf5_signature(f.get(), e.size)) {
    e.kind = Kind::Hdf5;
  } else if (is_zip(e.head)) {
    e.kind = Kind::Zip;
    e.zip_names = e.head + read_bytes(f.get(), static_cast<long>(e.size > 65536 ? e.size - 65536 : 0), 65536);
  } else if (is_json_text(e.head)) {
    e.kind = Kind::Json;
  }
  return e;
}

// The message for a file that is neither HDF5, zip nor JSON.
std::string describe_other(const Examined& e) {
  if (kHdf5Signature.compare(0, e.head.size(), e.head) == 0)
    return "the file is truncated (only " + std::to_string(e.size) + " bytes, shorter than an HDF5 header); "
           "copy the file again or " + kSaveAdvice;
  if (looks_like_text(e.head)) return std::string("this is a text file, not an HDF5 file; ") + kSaveAdvice;
  return "this is not an HDF5 file (no HDF5 signature); kc2cpp reads Keras models saved with "
         "model.save('model.keras') or model.save('model.h5')";
}

std::string read_text_file(const std::string& path, uint64_t size) {
  if (size > kMaxJsonBytes)
    fail(path, "the file has " + std::to_string(size) + " bytes, more than kc2cpp accepts for a model architecture (" +
                   std::to_string(kMaxJsonBytes) + "); pass the JSON written by model.to_json()");
  FilePtr f(std::fopen(path.c_str(), "rb"));
  std::string text = f ? read_bytes(f.get(), 0, static_cast<size_t>(size)) : "";
  if (text.size() != size) fail(path, "cannot be read completely; check the file and copy it again");
  return text;
}

// ---- errors from the readers -------------------------------------------------------------------

// Runs `read`, turning the readers' exceptions into Errors naming `path`. `damaged` says what to do
// about a damaged file.
template <typename Read>
auto guarded(const std::string& path, const std::string& noun, const std::string& damaged, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const h5::Refused& e) {
    fail(path, std::string("refused: ") + e.what() + "; kc2cpp reads only what Keras's model.save() writes into "
                                                     "the file itself: save the model that way");
  } catch (const h5::Unsupported& e) {
    fail(path, std::string(e.what()) + "; convert the model's weights to float32 before saving it");
  } catch (const h5::Failure& e) {
    fail(path, "cannot read the " + noun + ": " + e.what() + "; the file is probably damaged or truncated: " + damaged);
  } catch (const zip::Failure& e) {
    fail(path, "cannot read the " + noun + ": " + e.what() + "; the file is probably damaged or truncated: " + damaged);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(path + ": the file claims sizes too large to read; it is probably damaged: " + damaged);
  } catch (const std::length_error&) {
    fail(path, "the file claims sizes too large to read; it is probably damaged: " + damaged);
  }
}

std::string first_string(const h5::File& file, hid_t obj, const std::string& name) {
  if (!h5::has_attr(obj, name)) return "";
  std::vector<std::string> v = h5::read_strings(file, obj, name);
  return v.empty() ? "" : v[0];
}

int keras_major(const std::string& version) { return !version.empty() && version[0] == '2' ? 2 : 3; }

// ---- legacy full-model HDF5 --------------------------------------------------------------------

constexpr const char* kH5Damaged = "copy it again or save the model again with model.save('model.h5')";

h5::File open_hdf5(const std::string& path, uint64_t size) {
  try {
    return h5::File::open(path, size);
  } catch (const h5::Failure& e) {
    fail(path, std::string("this HDF5 file is damaged or truncated (") + e.what() +
                   "); copy the file again or save the model again with model.save('model.h5')");
  }
}

bool is_legacy_weights(hid_t root) { return h5::has_attr(root, "layer_names") || h5::has_attr(root, "layer_names0"); }
bool is_keras3_weights(hid_t root) { return h5::has_link(root, "layers") || h5::has_link(root, "vars"); }

[[noreturn]] void fail_without_config(const std::string& path, const h5::File& file) {
  hid_t root = file.root();
  const std::string pair = "; compile it with the architecture saved by model.to_json(): kc2cpp model.json --weights " +
                           path + ", or pass the full model saved with model.save('model.h5')";
  if (is_legacy_weights(root))
    fail(path, "this is a weights-only file (written by model.save_weights()): it holds layer weights but no "
               "model architecture (no 'model_config' attribute)" + pair);
  if (is_keras3_weights(root))
    fail(path, "this is a Keras 3 weights-only file (*.weights.h5, written by model.save_weights()): it has no "
               "model architecture" + pair);
  fail(path, "this is an HDF5 file but not a Keras model (no 'model_config' attribute at its root); "
             "pass the full model saved with model.save('model.h5')");
}

void read_model_weights(const std::string& path, const h5::File& file, KerasModel& model) {
  hid_t root = file.root();
  h5::Handle group;
  hid_t weights_root = root;  // Keras 1 kept the layer groups at the root
  if (h5::has_link(root, "model_weights")) {
    group = h5::open_group(root, "model_weights");
    weights_root = group.get();
  } else if (!is_legacy_weights(root)) {
    fail(path, "the file has a model config but no weights (no 'model_weights' group); the file is incomplete: "
               "save the model again with model.save('model.h5')");
  }
  if (model.keras_version.empty()) model.keras_version = first_string(file, weights_root, "keras_version");
  if (model.backend.empty()) model.backend = first_string(file, weights_root, "backend");
  model.layers = read_legacy_weights(file, weights_root);
}

KerasModel read_full_h5(const std::string& path, uint64_t size) {
  h5::File file = open_hdf5(path, size);
  return guarded(path, "model", kH5Damaged, [&] {
    hid_t root = file.root();
    if (!h5::has_attr(root, "model_config")) fail_without_config(path, file);
    KerasModel model;
    model.path = path;
    std::string text;
    for (const std::string& part : h5::read_strings(file, root, "model_config")) text += part;
    const std::string redo = "the file is damaged: save the model again with model.save('model.h5')";
    if (text.empty()) fail(path, "the model_config attribute is empty; " + redo);
    model.config = parse_keras_json(path, text, "the model_config attribute", redo);
    check_model_config(path, model.config, "the model_config attribute",
                       "was the file written by Keras model.save()? Save the model with model.save('model.h5')");
    model.keras_version = first_string(file, root, "keras_version");
    model.backend = first_string(file, root, "backend");
    read_model_weights(path, file, model);
    return model;
  });
}

// ---- .keras archives ---------------------------------------------------------------------------

constexpr const char* kKerasDamaged = "copy it again or save the model again with model.save('model.keras')";

std::string member_list(const zip::Archive& a) {
  std::string s;
  for (const std::string& n : a.names()) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "nothing" : s;
}

[[noreturn]] void fail_not_keras_zip(const std::string& path, const zip::Archive& a) {
  fail(path, "this is a zip archive but not a Keras .keras archive (it has no config.json; it holds " +
                 member_list(a) + "); " + kSaveAdvice);
}

std::string keras_version_of(const std::string& path, const zip::Archive& a) {
  if (!a.has("metadata.json")) return "";
  const std::string redo = std::string("the archive is damaged: ") + kKerasDamaged;
  const nlohmann::json meta = parse_keras_json(path, a.read("metadata.json", kMaxJsonBytes), "metadata.json in the archive", redo);
  auto v = meta.is_object() ? meta.find("keras_version") : meta.end();
  return v != meta.end() && v->is_string() ? v->get<std::string>() : "";
}

std::shared_ptr<const std::string> weights_member(const std::string& path, const zip::Archive& a) {
  if (!a.has("model.weights.h5")) {
    if (a.has("model.weights.npz"))
      fail(path, "the archive keeps its weights as model.weights.npz (saved with weights_format='npz'), which "
                 "kc2cpp does not read; save the model with model.save('model.keras') (HDF5 weights, the default)");
    fail(path, "the archive has no model.weights.h5 (it holds " + member_list(a) +
                   "); it is incomplete: save the model again with model.save('model.keras')");
  }
  auto image = std::make_shared<const std::string>(a.read("model.weights.h5", kMaxWeightsBytes));
  if (!image_has_hdf5_signature(*image))
    fail(path, "model.weights.h5 in the archive is not an HDF5 file (no HDF5 signature); the archive is damaged: " +
                   std::string(kKerasDamaged));
  return image;
}

KerasModel read_keras_archive(const std::string& path, const Examined& examined) {
  return guarded(path, "archive", kKerasDamaged, [&] {
    zip::Archive archive = zip::Archive::open(path, examined.size);
    if (!archive.has("config.json")) fail_not_keras_zip(path, archive);
    KerasModel model;
    model.path = path;
    const std::string redo = std::string("the archive is damaged: ") + kKerasDamaged;
    model.config = parse_keras_json(path, archive.read("config.json", kMaxJsonBytes), "config.json in the archive", redo);
    check_model_config(path, model.config, "config.json in the archive", redo);
    model.keras_version = keras_version_of(path, archive);
    h5::File file;
    try {
      file = h5::File::open_image(weights_member(path, archive));
    } catch (const h5::Failure& e) {
      fail(path, std::string("model.weights.h5 in the archive is damaged (") + e.what() + "); " + kKerasDamaged);
    }
    try {
      model.layers = read_keras3_weights(file, model.config, keras_major(model.keras_version));
    } catch (const Mismatch& e) {
      fail(path, std::string("the archive's weights (model.weights.h5) do not match its config.json: ") + e.what() +
                     "; the archive is damaged or was edited: save the model again with model.save('model.keras')");
    } catch (const ConfigProblem& e) {
      fail(path, std::string("config.json in the archive is not a model kc2cpp can follow: ") + e.what() + "; " + redo);
    }
    return model;
  });
}

// ---- architecture JSON + weights-only file -------------------------------------------------------

KerasModel read_architecture(const std::string& path, const Examined& e) {
  KerasModel model;
  model.path = path;
  const std::string advice = "pass the architecture written by model.to_json()";
  model.config = parse_keras_json(path, read_text_file(path, e.size), "the file", advice);
  check_model_config(path, model.config, "the file", advice);
  // tf.keras's to_json() adds these two beside class_name and config (Keras 3's does not); they are
  // root attributes in the other formats, not part of the model config.
  for (const char* key : {"keras_version", "backend"}) {
    auto it = model.config.find(key);
    if (it == model.config.end()) continue;
    if (it->is_string()) (key[0] == 'k' ? model.keras_version : model.backend) = it->get<std::string>();
    model.config.erase(key);
  }
  return model;
}

// Step 2 for the weights file: it must be an HDF5 weights file.
void check_weights_kind(const std::string& weights, const std::string& model_path, const Examined& w) {
  if (w.kind == Kind::Hdf5) return;
  if (w.kind == Kind::Zip)
    fail(weights, "this is a zip archive (.keras?), not a weights file; a .keras archive holds its own architecture: "
                  "compile it alone, kc2cpp " + weights + ", without " + model_path);
  if (w.kind == Kind::Json && w.head.find("\"weight_map\"") != std::string::npos)
    fail(weights, "this is the index of sharded weights (model.save_weights(..., max_shard_size=...)), which kc2cpp "
                  "does not read; save the weights in one file: model.save_weights('model.weights.h5')");
  if (w.kind == Kind::Json)
    fail(weights, "this is JSON text, not a weights file; --weights takes the HDF5 file written by "
                  "model.save_weights() (model.weights.h5, or a tf.keras .h5)");
  fail(weights, describe_other(w) + "; --weights takes the HDF5 file written by model.save_weights()");
}

// tf.keras's layer_names must name exactly the architecture's layers: Keras would load another
// model's weights by position, kc2cpp finds them by name.
void check_legacy_names(const std::vector<LayerWeights>& layers, const nlohmann::json& config) {
  const std::vector<std::string> arch = saved_layer_names(config);
  std::set<std::string> in_file, in_arch(arch.begin(), arch.end());
  for (const LayerWeights& l : layers) in_file.insert(l.layer);
  std::string missing, extra;
  for (const std::string& n : arch)
    if (!in_file.count(n)) missing += (missing.empty() ? "'" : ", '") + n + "'";
  for (const LayerWeights& l : layers)
    if (!in_arch.count(l.layer)) extra += (extra.empty() ? "'" : ", '") + l.layer + "'";
  if (missing.empty() && extra.empty()) return;
  std::string what = "the layer names differ: ";
  if (!missing.empty()) what += "the architecture's layers " + missing + " are not in the weights file";
  if (!missing.empty() && !extra.empty()) what += ", and ";
  if (!extra.empty()) what += "the weights file has layers " + extra + " that the architecture does not";
  throw Mismatch(what);
}

void read_weights_file(const std::string& weights, const std::string& model_path, const h5::File& file,
                       KerasModel& model) {
  hid_t root = file.root();
  if (h5::has_attr(root, "model_config"))
    fail(weights, "this is a full model file (model.save()), which holds its own architecture: compile it alone, "
                  "kc2cpp " + weights + ", without " + model_path);
  if (is_legacy_weights(root)) {
    model.keras_version = first_string(file, root, "keras_version");
    model.backend = first_string(file, root, "backend");
    model.layers = read_legacy_weights(file, root);
    check_legacy_names(model.layers, model.config);
  } else if (is_keras3_weights(root)) {
    model.layers = read_keras3_weights(file, model.config, keras_major(model.keras_version));
  } else {
    fail(weights, "this HDF5 file holds no Keras weights (neither a 'layer_names' attribute nor a 'layers' group at "
                  "its root); --weights takes the file written by model.save_weights()");
  }
}

KerasModel read_json_and_weights(const std::string& path, const std::string& weights) {
  const Examined m = examine(path);
  if (m.kind == Kind::Hdf5 || m.kind == Kind::Zip)
    fail(path, "--weights goes with an architecture JSON (model.to_json()), but this is a" +
                   std::string(m.kind == Kind::Zip ? " zip (.keras) archive" : "n HDF5 file") +
                   "; a full model holds its own weights: compile it without --weights; a weights-only file "
                   "goes after --weights, the architecture JSON first");
  if (m.kind != Kind::Json) fail(path, describe_other(m) + "; with --weights, pass the architecture from model.to_json()");
  KerasModel model = read_architecture(path, m);
  const Examined w = examine(weights);
  check_weights_kind(weights, path, w);
  h5::File file = open_hdf5(weights, w.size);
  const std::string redo = "copy it again or save the weights again with model.save_weights()";
  guarded(weights, "weights", redo, [&] {
    try {
      read_weights_file(weights, path, file, model);
    } catch (const Mismatch& e) {
      fail(weights, std::string("the weights do not match the architecture in ") + path + ": " + e.what() + "; " +
                        kPairAdvice);
    } catch (const ConfigProblem& e) {
      fail(path, std::string("the architecture is not a model kc2cpp can follow: ") + e.what() +
                     "; pass the architecture written by model.to_json()");
    }
    return 0;
  });
  return model;
}

// ---- a model file alone ------------------------------------------------------------------------

[[noreturn]] void fail_json_alone(const std::string& path, const Examined& e) {
  nlohmann::json config;
  try {
    config = parse_keras_json(path, read_text_file(path, e.size), "the file", "");
  } catch (const Error&) {
  }
  if (is_model_config(config))
    fail(path, "this is a model architecture (model.to_json()) without weights; pass its weights too: kc2cpp " + path +
                   " --weights model.weights.h5 (written by model.save_weights()), or compile the full model saved "
                   "with model.save('model.keras')");
  fail(path, "this is JSON text, not a Keras model file; " + std::string(kSaveAdvice));
}

KerasModel read_model_file(const std::string& path) {
  const Examined e = examine(path);
  switch (e.kind) {
    case Kind::Hdf5: return read_full_h5(path, e.size);
    case Kind::Zip:
      if (e.zip_names.find("config.json") == std::string::npos && e.zip_names.find("model.weights") == std::string::npos)
        fail(path, std::string("this is a zip archive, not a Keras model file; ") + kSaveAdvice);
      return read_keras_archive(path, e);
    case Kind::Json: fail_json_alone(path, e);
    case Kind::Other: break;
  }
  fail(path, describe_other(e));
}

}  // namespace

void require_not_special(const std::string& path, const std::string& what_to_do) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return;
  const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO (named pipe)"
                     : S_ISCHR(st.st_mode) ? "a character device"
                     : S_ISBLK(st.st_mode) ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a special file";
  fail(path, std::string("is ") + kind + ", not a regular file; " + what_to_do);
}

const LayerWeights* KerasModel::weights_of(const std::string& name) const {
  for (const LayerWeights& l : layers)
    if (l.layer == name) return &l;
  return nullptr;
}

KerasModel load_model_in_process(const std::string& path, const std::string& weights) {
  h5::silence_errors();
  return weights.empty() ? read_model_file(path) : read_json_and_weights(path, weights);
}

}  // namespace kc2cpp::load
