// compiler/load, the formats beside the legacy full-model .h5: .keras archives, architecture JSON +
// Keras 3 *.weights.h5, architecture JSON + tf.keras save_weights() .h5.
//
// The reference is always the legacy loader on a file Keras saved from the same model: every k3
// fixture has x.h5 and x.keras; the fmt_* fixtures (tests/fixtures/fixtures_formats.py) have
// x.arch.json + the weights-only file and x.full.h5 (+ x.full.keras in k3). Malformed archives are
// written here, by hand (stored members) or with libzip (deflated members), from real fixture bytes.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <stdlib.h>
#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "unit_util.h"
#include "error.h"
#include "load/keras_model.h"

namespace kc2cpp::load {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kSource = KC2CPP_SOURCE_DIR;
std::string fixture(const std::string& rel) { return kSource + "/tests/fixtures/" + rel; }

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

using unit_test::read_file;
using unit_test::write_file;
// A fresh directory, removed with its content at the end of the test.
struct TempDir : unit_test::TempDir {
  TempDir() : unit_test::TempDir("kc2cpp_formats_test") {}
};

int open_hdf5_objects() { return static_cast<int>(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL)); }

// ---- comparing two loads of the same model ----------------------------------------------------------

// Keras 3's config.json keeps what the legacy model_config drops: module, registered_name,
// build_config, compile_config, shared_object_id. Without them the two are equal.
json without_envelope_extras(const json& j) {
  if (j.is_array()) {
    json out = json::array();
    for (const json& v : j) out.push_back(without_envelope_extras(v));
    return out;
  }
  if (!j.is_object()) return j;
  json out = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "module" && it.key() != "registered_name" && it.key() != "build_config" &&
        it.key() != "compile_config" && it.key() != "shared_object_id")
      out[it.key()] = without_envelope_extras(it.value());
  return out;
}

std::vector<std::string> components(const std::string& name) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    out.push_back(name.substr(start, slash - start));
  out.push_back(name.substr(start));
  return out;
}

// The naming schemes differ: Keras >= 3.3 legacy files name a variable by the path it was created
// under ("sequential/dense/kernel", "inner/conv/kernel" inside 'mid'), tf.keras by the layer's name
// scope ("time_distributed/kernel:0" for the Dense inside), the Keras 3 layout reader by the layer
// names below the top-level layer ("dense/kernel", "mid/inner/conv/kernel",
// "time_distributed/dense/kernel"). The same variable: equal variable names (tf.keras's ":0" aside),
// and the other components of the shorter name appear in order in the longer one.
std::vector<std::string> variable_path(const std::string& name) {
  std::vector<std::string> c = components(name);
  c.back() = c.back().substr(0, c.back().find(':'));
  return c;
}

bool same_variable(const std::string& a, const std::string& b) {
  std::vector<std::string> x = variable_path(a), y = variable_path(b);
  if (x.size() > y.size()) std::swap(x, y);
  if (x.back() != y.back()) return false;
  size_t at = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    while (at + 1 < y.size() && y[at] != x[i]) ++at;
    if (at + 1 >= y.size()) return false;
    ++at;
  }
  return true;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// `got` (another format) holds the same model as `want` (legacy .h5): config, layers, arrays.
void expect_same_model(const KerasModel& got, const KerasModel& want, bool same_names) {
  EXPECT_EQ(without_envelope_extras(got.config), without_envelope_extras(want.config));
  ASSERT_EQ(got.layers.size(), want.layers.size());
  for (size_t i = 0; i < want.layers.size(); ++i) {
    const LayerWeights &g = got.layers[i], &w = want.layers[i];
    EXPECT_EQ(g.layer, w.layer);
    ASSERT_EQ(g.arrays.size(), w.arrays.size()) << w.layer;
    for (size_t k = 0; k < w.arrays.size(); ++k) {
      const NamedArray &a = g.arrays[k], &b = w.arrays[k];
      if (same_names) EXPECT_EQ(a.name, b.name);
      else EXPECT_TRUE(same_variable(a.name, b.name)) << a.name << " vs " << b.name;
      EXPECT_EQ(a.shape, b.shape) << a.name;
      EXPECT_TRUE(same_bits(a.data, b.data)) << a.name;
    }
  }
}

// The nested-model contract: a top-level nested model's arrays are named by the layer path below
// it, starting with its own name ("mid/inner/conv/kernel").
void expect_nested_names(const KerasModel& m) {
  for (const json& layer : m.config["config"]["layers"]) {
    const std::string cls = layer.value("class_name", "");
    if (cls != "Sequential" && cls != "Functional") continue;
    const std::string name = layer["config"]["name"];
    const LayerWeights* w = m.weights_of(name);
    ASSERT_NE(w, nullptr) << name;
    for (const NamedArray& a : w->arrays) EXPECT_EQ(a.name.rfind(name + "/", 0), 0u) << a.name;
  }
}

// ---- every k3 fixture: .keras against .h5 ------------------------------------------------------------

TEST(KerasArchiveTest, EveryFixtureMatchesItsLegacyH5) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fixture("k3"))) {
    const fs::path keras = entry.path();
    if (keras.extension() != ".keras") continue;
    std::string stem = keras.string().substr(0, keras.string().size() - 6);
    const std::string h5 = stem + ".h5";
    if (!fs::exists(h5)) continue;
    SCOPED_TRACE(keras.string());
    const KerasModel legacy = load_model_in_process(h5);
    try {
      const KerasModel archive = load_model_in_process(keras.string());
      EXPECT_EQ(archive.keras_version, legacy.keras_version);
      EXPECT_EQ(archive.path, keras.string());
      if (keras.stem() != "unsupported")  // its Lambda's marshalled bytecode differs between the two saves
        expect_same_model(archive, legacy, false);
      else
        EXPECT_EQ(archive.layers.size(), legacy.layers.size());
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
    EXPECT_EQ(open_hdf5_objects(), 0);
    ++checked;
  }
  EXPECT_GT(checked, 100);
  std::printf("[ formats  ] %d .keras fixtures load as their .h5 twins\n", checked);
}

TEST(KerasArchiveTest, IsolatedLoadAgrees) {
  const std::string path = fixture("k3/bidir_mixed_backward_layer_seq.keras");
  expect_same_model(load_model(path), load_model_in_process(path), true);
}

// ---- weights-only fixtures: JSON + weights against the full .h5 -----------------------------------------

const char* const kFormatFixtures[] = {"fmt_conv_bn", "fmt_recurrent", "fmt_nested_frozen", "fmt_nested_deep",
                                       "fmt_graph", "weights_only"};

TEST(WeightsOnlyTest, Keras3LayoutMatchesFullModel) {
  for (const char* name : kFormatFixtures) {
    const std::string base = fixture(std::string("k3/") + name);
    SCOPED_TRACE(base);
    const KerasModel m = load_model(base + ".arch.json", base + ".weights.h5");
    EXPECT_EQ(m.path, base + ".arch.json");
    if (!fs::exists(base + ".full.h5")) continue;  // weights_only: no twin
    const KerasModel full = load_model_in_process(base + ".full.h5");
    expect_same_model(m, full, false);
    expect_same_model(load_model_in_process(base + ".full.keras"), full, false);
    expect_nested_names(m);
    EXPECT_EQ(open_hdf5_objects(), 0);
  }
}

TEST(WeightsOnlyTest, LegacyLayoutMatchesFullModel) {
  for (const char* name : kFormatFixtures) {
    const std::string base = fixture(std::string("k2/") + name);
    SCOPED_TRACE(base);
    const KerasModel m = load_model(base + ".arch.json", base + ".h5");
    EXPECT_EQ(m.keras_version, "2.15.0");
    EXPECT_EQ(m.backend, "tensorflow");
    if (!fs::exists(base + ".full.h5")) continue;
    const KerasModel full = load_model_in_process(base + ".full.h5");
    expect_same_model(m, full, true);
    const KerasModel archive = load_model_in_process(base + ".full.keras");  // tf.keras's .keras
    EXPECT_EQ(archive.keras_version, "2.15.0");
    expect_same_model(archive, full, false);
    expect_nested_names(archive);
  }
}

// Legacy order inside a nested model: all trainable weights of all its layers, then the moving
// statistics - unless the nested model is frozen, then each layer's weights in place.
TEST(WeightsOnlyTest, NestedModelsKeepKerasOrder) {
  const KerasModel deep = load_model(fixture("k3/fmt_nested_deep.arch.json"), fixture("k3/fmt_nested_deep.weights.h5"));
  const LayerWeights* mid = deep.weights_of("mid");
  ASSERT_NE(mid, nullptr);
  ASSERT_EQ(mid->arrays.size(), 12u);
  EXPECT_EQ(mid->arrays[0].name, "mid/inner/conv/kernel");
  EXPECT_EQ(mid->arrays[8].name, "mid/inner/bn/moving_mean");
  const KerasModel frozen =
      load_model(fixture("k3/fmt_nested_frozen.arch.json"), fixture("k3/fmt_nested_frozen.weights.h5"));
  const LayerWeights* base = frozen.weights_of("base");
  ASSERT_NE(base, nullptr);
  ASSERT_EQ(base->arrays.size(), 8u);
  EXPECT_EQ(base->arrays[4].name, "base/batch_normalization/moving_mean");
  EXPECT_EQ(base->arrays[6].name, "base/dense_1/kernel");
}

// ---- errors: JSON + weights -----------------------------------------------------------------------

std::string load_error(const std::string& path, const std::string& weights = "") {
  std::string in_process, isolated;
  try {
    load_model_in_process(path, weights);
  } catch (const Error& e) {
    in_process = e.what();
  }
  EXPECT_EQ(open_hdf5_objects(), 0) << "HDF5 handles leaked loading " << path;
  try {
    load_model(path, weights);
  } catch (const Error& e) {
    isolated = e.what();
  }
  EXPECT_EQ(in_process, isolated) << path;
  EXPECT_FALSE(in_process.empty()) << "no error for " << path << " " << weights;
  return in_process;
}

#define EXPECT_STARTS(text, prefix) EXPECT_EQ(std::string(text).rfind(prefix, 0), 0u) << (text)

TEST(WeightsOnlyErrorTest, ArchitectureWithoutWeights) {
  const std::string json = fixture("k3/weights_only.arch.json");
  const std::string msg = load_error(json);
  EXPECT_STARTS(msg, json + ": ");
  EXPECT_CONTAINS(msg, "this is a model architecture (model.to_json()) without weights; pass its weights too: kc2cpp " +
                           json + " --weights model.weights.h5");
}

TEST(WeightsOnlyErrorTest, WeightsFileAsModel) {
  for (const char* rel : {"k3/weights_only.weights.h5", "k2/weights_only.h5"}) {
    const std::string path = fixture(rel);
    const std::string msg = load_error(path);
    EXPECT_STARTS(msg, path + ": ");
    EXPECT_CONTAINS(msg, "weights-only file");
    EXPECT_CONTAINS(msg, "kc2cpp model.json --weights " + path);
  }
}

TEST(WeightsOnlyErrorTest, WeightsOfAnotherModel) {
  // Keras 3 layout: the architecture has 2 Dense layers, the weights file Conv2D, BatchNormalization, ...
  const std::string k3 = fixture("k3/fmt_conv_bn.weights.h5");
  std::string msg = load_error(fixture("k3/weights_only.arch.json"), k3);
  EXPECT_STARTS(msg, k3 + ": the weights do not match the architecture in " + fixture("k3/weights_only.arch.json"));
  EXPECT_CONTAINS(msg, "save the architecture and the weights of the same model");
  // tf.keras layout: found by layer name.
  const std::string k2 = fixture("k2/fmt_recurrent.h5");
  msg = load_error(fixture("k2/weights_only.arch.json"), k2);
  EXPECT_STARTS(msg, k2 + ": the weights do not match the architecture");
  EXPECT_CONTAINS(msg, "the layer names differ: the architecture's layers 'dense' are not in the weights file, and the "
                       "weights file has layers 'bidirectional', 'time_distributed', 'gru' that the architecture does not");
}

TEST(WeightsOnlyErrorTest, RenamedLayerIsCaughtByTheSavedName) {
  TempDir dir;
  std::string text = read_file(fixture("k3/weights_only.arch.json"));
  const size_t at = text.find("\"name\": \"dense_1\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 17, "\"name\": \"renamed\"");
  write_file(dir.file("arch.json"), text);
  const std::string msg = load_error(dir.file("arch.json"), fixture("k3/weights_only.weights.h5"));
  EXPECT_CONTAINS(msg, "/layers/dense_1 holds the weights of a layer named 'dense_1', but the architecture's Dense "
                       "layer in that place is named 'renamed'");
}

TEST(WeightsOnlyErrorTest, WrongFilesOnEitherSide) {
  const std::string json = fixture("k3/weights_only.arch.json");
  const std::string full = fixture("k3/summary_walkthrough.h5");
  const std::string keras = fixture("k3/summary_walkthrough.keras");
  EXPECT_CONTAINS(load_error(full, fixture("k3/weights_only.weights.h5")),
                  full + ": --weights goes with an architecture JSON (model.to_json()), but this is an HDF5 file");
  EXPECT_CONTAINS(load_error(keras, fixture("k3/weights_only.weights.h5")), "but this is a zip (.keras) archive");
  EXPECT_CONTAINS(load_error(json, full), full + ": this is a full model file (model.save()), which holds its own architecture");
  EXPECT_CONTAINS(load_error(json, keras), keras + ": this is a zip archive (.keras?), not a weights file");
  EXPECT_CONTAINS(load_error(json, json), json + ": this is JSON text, not a weights file");
  TempDir dir;
  EXPECT_CONTAINS(load_error(json, dir.file("absent.weights.h5")), dir.file("absent.weights.h5") + ": file not found");
  write_file(dir.file("not_model.json"), "{\"class_name\": 3}");
  EXPECT_CONTAINS(load_error(dir.file("not_model.json"), fixture("k3/weights_only.weights.h5")),
                  "the file is not a Keras model config: it has no \"class_name\" string");
  write_file(dir.file("broken.json"), "{\"class_name\": \"Sequential\", ");
  EXPECT_CONTAINS(load_error(dir.file("broken.json"), fixture("k3/weights_only.weights.h5")),
                  "the file is not valid JSON: it ends too early (after byte 29)");
  write_file(dir.file("no_layers.json"), "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\"}}");
  EXPECT_CONTAINS(load_error(dir.file("no_layers.json"), fixture("k3/weights_only.weights.h5")),
                  "the architecture is not a model kc2cpp can follow: model 's' (Sequential) has no \"layers\" list");
  EXPECT_CONTAINS(load_error(json, fixture("../unit/data/h5/not_keras.h5")), "this HDF5 file holds no Keras weights");
}

// A config nested deeper than any real model, with a weights file to match, is refused (no stack
// overflow): 150 Sequentials, each the only layer of the one above.
TEST(WeightsOnlyErrorTest, AbsurdNestingIsRefused) {
  TempDir dir;
  json model = {{"class_name", "Dense"}, {"config", {{"name", "leaf"}, {"units", 1}}}};
  for (int depth = 150; depth > 0; --depth) {
    model = {{"class_name", "Sequential"}, {"config", {{"name", "m" + std::to_string(depth)}, {"layers", {model}}}}};
  }
  write_file(dir.file("deep.json"), json{{"class_name", "Sequential"}, {"config", {{"name", "top"}, {"layers", {model}}}}}.dump());
  hid_t f = H5Fcreate(dir.file("deep.weights.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  std::string path;
  for (int depth = 0; depth < 152; ++depth) {
    path += depth == 151 ? "/layers/dense" : "/layers/sequential";
    hid_t layers = H5Gcreate2(f, path.substr(0, path.rfind('/')).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (layers >= 0) H5Gclose(layers);
    hid_t g = H5Gcreate2(f, path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(g, 0) << path;
    H5Gclose(g);
  }
  H5Fclose(f);
  H5Eclear2(H5E_DEFAULT);
  EXPECT_CONTAINS(load_error(dir.file("deep.json"), dir.file("deep.weights.h5")), "levels deep");
}

// ---- files that point outside themselves: links and external storage, made here with libhdf5 ------

// A copy of `source` in which the object at `path` is replaced: by an external link to the same
// object in `source` (external), a soft link to `target` (soft), or a dataset of `n` floats whose
// data lives in `source` itself (external storage).
enum class Replace { ExternalLink, SoftLink, ExternalStorage };
std::string replaced_copy(const TempDir& dir, const std::string& source, const std::string& path, Replace how,
                          const std::string& target = "") {
  const std::string copy = dir.file("replaced.h5");
  fs::copy_file(source, copy, fs::copy_options::overwrite_existing);
  hid_t f = H5Fopen(copy.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  EXPECT_GE(H5Ldelete(f, path.c_str(), H5P_DEFAULT), 0) << path;
  if (how == Replace::ExternalLink) {
    EXPECT_GE(H5Lcreate_external(source.c_str(), path.c_str(), f, path.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
  } else if (how == Replace::SoftLink) {
    EXPECT_GE(H5Lcreate_soft(target.c_str(), f, path.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
  } else {
    const hsize_t n = 4;
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, source.c_str(), 0, n * sizeof(float));
    hid_t d = H5Dcreate2(f, path.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    EXPECT_GE(d, 0);
    H5Dclose(d), H5Pclose(dcpl), H5Sclose(space);
  }
  H5Fclose(f);
  return copy;
}

TEST(LinkTest, NothingOutsideTheFileIsRead) {
  TempDir dir;
  const std::string json = fixture("k3/weights_only.arch.json"), weights = fixture("k3/weights_only.weights.h5");
  std::string msg = load_error(json, replaced_copy(dir, weights, "/layers/dense_1", Replace::ExternalLink));
  EXPECT_CONTAINS(msg, "'dense_1' in /layers is an external link to '");
  EXPECT_CONTAINS(msg, "refused: ");
  msg = load_error(json, replaced_copy(dir, weights, "/layers/dense/vars/1", Replace::SoftLink, "/layers/dense_1/vars/1"));
  EXPECT_CONTAINS(msg, "'1' in /layers/dense/vars is a soft link");
  msg = load_error(json, replaced_copy(dir, weights, "/layers/dense/vars/1", Replace::ExternalStorage));
  EXPECT_CONTAINS(msg, "dataset /layers/dense/vars/1 keeps its data in the file '");
  EXPECT_CONTAINS(msg, "outside the file being read (HDF5 external storage)");
  // The legacy layout: weight_names are paths; every level is checked.
  const std::string full = fixture("k3/summary_walkthrough.h5");
  msg = load_error(replaced_copy(dir, full, "/model_weights/dense/sequential", Replace::ExternalLink));
  EXPECT_CONTAINS(msg, "'sequential' in /model_weights/dense is an external link to '");
  msg = load_error(replaced_copy(dir, full, "/model_weights/dense_1", Replace::SoftLink, "/model_weights/dense"));
  EXPECT_CONTAINS(msg, "'dense_1' in /model_weights is a soft link");
}

TEST(WeightsOnlyErrorTest, ShardedWeightsIndex) {
  TempDir dir;
  write_file(dir.file("model.weights.json"),
             "{\"metadata\": {\"total_size\": 10}, \"weight_map\": {\"/vars\": \"model_00000.weights.h5\"}}");
  EXPECT_CONTAINS(load_error(fixture("k3/weights_only.arch.json"), dir.file("model.weights.json")),
                  "this is the index of sharded weights (model.save_weights(..., max_shard_size=...))");
}

// ---- errors: malformed archives, written here --------------------------------------------------------

uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put16(std::string& s, uint32_t v) { s += static_cast<char>(v & 0xff), s += static_cast<char>((v >> 8) & 0xff); }
void put32(std::string& s, uint32_t v) { put16(s, v & 0xffff), put16(s, v >> 16); }

struct Member {
  std::string name, data;
  uint32_t declared_size = 0xffffffffu;  // the uncompressed size written in the headers; default: data.size()
};

// A zip of stored (uncompressed) members, as Python's zipfile writes them.
std::string stored_zip(const std::vector<Member>& members) {
  std::string out, central;
  for (const Member& m : members) {
    const uint32_t size = m.declared_size == 0xffffffffu ? static_cast<uint32_t>(m.data.size()) : m.declared_size;
    const uint32_t offset = static_cast<uint32_t>(out.size());
    auto header = [&](std::string& s, bool is_central) {
      put32(s, is_central ? 0x02014b50u : 0x04034b50u);
      if (is_central) put16(s, 20);
      put16(s, 20), put16(s, 0), put16(s, 0), put16(s, 0), put16(s, 0x21);  // version, flags, stored, time, date
      put32(s, crc32(m.data)), put32(s, static_cast<uint32_t>(m.data.size())), put32(s, size);
      put16(s, static_cast<uint32_t>(m.name.size())), put16(s, 0);
      if (is_central) put16(s, 0), put16(s, 0), put16(s, 0), put32(s, 0), put32(s, offset);
      s += m.name;
    };
    header(out, false);
    out += m.data;
    header(central, true);
  }
  const uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50u), put16(out, 0), put16(out, 0);
  put16(out, static_cast<uint32_t>(members.size())), put16(out, static_cast<uint32_t>(members.size()));
  put32(out, static_cast<uint32_t>(central.size())), put32(out, cd_offset), put16(out, 0);
  return out;
}

// The members of a real .keras archive.
struct RealArchive {
  std::string config, metadata, weights;
};
RealArchive real_archive(const std::string& rel) {
  RealArchive r;
  int err = 0;
  ::zip* z = zip_open(fixture(rel).c_str(), ZIP_RDONLY, &err);
  EXPECT_NE(z, nullptr);
  auto member = [&](const char* name) {
    zip_stat_t st;
    zip_stat(z, name, 0, &st);
    std::string bytes(st.size, '\0');
    zip_file_t* f = zip_fopen(z, name, 0);
    zip_fread(f, bytes.data(), st.size);
    zip_fclose(f);
    return bytes;
  };
  r.config = member("config.json");
  r.metadata = member("metadata.json");
  r.weights = member("model.weights.h5");
  zip_discard(z);
  return r;
}

std::string archive_error(const TempDir& dir, const std::string& name, const std::string& bytes) {
  write_file(dir.file(name), bytes);
  const std::string msg = load_error(dir.file(name));
  EXPECT_STARTS(msg, dir.file(name) + ": ");
  return msg;
}

TEST(KerasArchiveErrorTest, MissingAndBrokenMembers) {
  TempDir dir;
  const RealArchive real = real_archive("k3/summary_walkthrough.keras");
  EXPECT_CONTAINS(archive_error(dir, "no_config.keras", stored_zip({{"model.weights.h5", real.weights}})),
                  "this is a zip archive but not a Keras .keras archive (it has no config.json; it holds model.weights.h5)");
  EXPECT_CONTAINS(archive_error(dir, "no_weights.keras",
                                stored_zip({{"metadata.json", real.metadata}, {"config.json", real.config}})),
                  "the archive has no model.weights.h5 (it holds metadata.json, config.json); it is incomplete");
  EXPECT_CONTAINS(archive_error(dir, "npz.keras", stored_zip({{"config.json", real.config}, {"model.weights.npz", "x"}})),
                  "the archive keeps its weights as model.weights.npz (saved with weights_format='npz')");
  EXPECT_CONTAINS(archive_error(dir, "text_weights.keras",
                                stored_zip({{"config.json", real.config}, {"model.weights.h5", "not hdf5 at all"}})),
                  "model.weights.h5 in the archive is not an HDF5 file (no HDF5 signature)");
  EXPECT_CONTAINS(archive_error(dir, "cut_weights.keras",
                                stored_zip({{"config.json", real.config},
                                            {"model.weights.h5", real.weights.substr(0, real.weights.size() / 2)}})),
                  "model.weights.h5 in the archive is damaged (HDF5 cannot open it");
  EXPECT_CONTAINS(archive_error(dir, "bad_json.keras",
                                stored_zip({{"config.json", real.config.substr(0, 40)}, {"model.weights.h5", real.weights}})),
                  "config.json in the archive is not valid JSON: it ends too early (after byte 40)");
  EXPECT_CONTAINS(archive_error(dir, "not_model.keras",
                                stored_zip({{"config.json", "{\"layers\": []}"}, {"model.weights.h5", real.weights}})),
                  "config.json in the archive is not a Keras model config: it has no \"class_name\" string");
}

TEST(KerasArchiveErrorTest, WeightsOfAnotherModel) {
  TempDir dir;
  const RealArchive a = real_archive("k3/summary_walkthrough.keras"), b = real_archive("k3/dense_relu_softmax.keras");
  const std::string msg = archive_error(dir, "mixed.keras", stored_zip({{"config.json", a.config},
                                                                       {"model.weights.h5", b.weights}}));
  EXPECT_CONTAINS(msg, "the archive's weights (model.weights.h5) do not match its config.json: /layers has no 'dropout' "
                       "for layer 'dropout' (Dropout)");
}

TEST(KerasArchiveErrorTest, AbsurdDeclaredSizes) {
  TempDir dir;
  const RealArchive real = real_archive("k3/summary_walkthrough.keras");
  for (uint32_t declared : {uint32_t{0xfffffff0u}, static_cast<uint32_t>(real.weights.size() * 2)}) {
    Member w{"model.weights.h5", real.weights, declared};
    const std::string msg = archive_error(dir, "absurd.keras", stored_zip({{"config.json", real.config}, w}));
    EXPECT_CONTAINS(msg, "cannot read the archive: ");
    EXPECT_CONTAINS(msg, "copy it again or save the model again with model.save('model.keras')");
  }
}

// Writes `members` with libzip, deflated, and returns the archive's bytes.
std::string deflated_zip(const TempDir& dir, const std::vector<Member>& members) {
  const std::string path = dir.file("deflated.zip");
  fs::remove(path);
  int err = 0;
  ::zip* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  for (const Member& m : members) {
    zip_source_t* src = zip_source_buffer(z, m.data.data(), m.data.size(), 0);
    const zip_int64_t index = zip_file_add(z, m.name.c_str(), src, ZIP_FL_OVERWRITE);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9);
  }
  EXPECT_EQ(zip_close(z), 0);
  return read_file(path);
}

TEST(KerasArchiveTest, DeflatedMembersAreRead) {
  TempDir dir;
  const RealArchive real = real_archive("k3/conv2d_same.keras");
  const std::string bytes = deflated_zip(
      dir, {{"metadata.json", real.metadata}, {"config.json", real.config}, {"model.weights.h5", real.weights}});
  write_file(dir.file("deflated.keras"), bytes);
  expect_same_model(load_model(dir.file("deflated.keras")), load_model(fixture("k3/conv2d_same.keras")), true);
}

// A deflated member declaring more than 1032 times its compressed size (what deflate can reach) is
// refused before anything is allocated.
TEST(KerasArchiveErrorTest, DeflateBombIsRefused) {
  TempDir dir;
  const RealArchive real = real_archive("k3/summary_walkthrough.keras");
  std::string bytes = deflated_zip(dir, {{"config.json", real.config}, {"model.weights.h5", std::string(1 << 20, '\0')}});
  // Patch the uncompressed size of model.weights.h5 in its local header and its central directory entry.
  int patched = 0;
  for (const char* sig : {"PK\x03\x04", "PK\x01\x02"}) {
    for (size_t at = bytes.find(sig); at != std::string::npos; at = bytes.find(sig, at + 4)) {
      const bool central = sig[2] == 1;
      const size_t name_len_at = at + (central ? 28 : 26), name_at = at + (central ? 46 : 30);
      const size_t len = static_cast<unsigned char>(bytes[name_len_at]) | static_cast<unsigned char>(bytes[name_len_at + 1]) << 8;
      if (bytes.compare(name_at, len, "model.weights.h5") != 0) continue;
      std::string size;
      put32(size, 0xfff00000u);
      bytes.replace(at + (central ? 24 : 22), 4, size);
      ++patched;
    }
  }
  ASSERT_EQ(patched, 2);
  const std::string msg = archive_error(dir, "bomb.keras", bytes);
  EXPECT_CONTAINS(msg, "'model.weights.h5' declares 4293918720 bytes");
  EXPECT_CONTAINS(msg, "more than deflate can expand to");
}

TEST(KerasArchiveErrorTest, TruncatedAndFlippedArchives) {
  TempDir dir;
  const std::string bytes = read_file(fixture("k3/summary_walkthrough.keras"));
  for (size_t size : {size_t{10}, size_t{200}, bytes.size() / 2, bytes.size() - 30}) {
    SCOPED_TRACE(size);
    const std::string msg = archive_error(dir, "cut.keras", bytes.substr(0, size));
    EXPECT_FALSE(msg.empty());
  }
  int errors = 0, loaded = 0;
  for (size_t at = 0; at < bytes.size(); at += 997) {
    std::string copy = bytes;
    copy[at] ^= 0x5a;
    write_file(dir.file("flipped.keras"), copy);
    try {
      load_model(dir.file("flipped.keras"));
      ++loaded;
    } catch (const Error& e) {
      ++errors;
      EXPECT_STARTS(e.what(), dir.file("flipped.keras") + ": ");
    }
  }
  EXPECT_GT(errors, 0);
}


// ---- Keras < 3.6: vars groups without the `name` attribute --------------------------------------------

herr_t drop_name(hid_t obj, const char* name, const H5O_info_t* info, void*) {
  if (info->type == H5O_TYPE_GROUP && H5Aexists_by_name(obj, name, "name", H5P_DEFAULT) > 0)
    H5Adelete_by_name(obj, name, "name", H5P_DEFAULT);
  return 0;
}

// Without the recorded names the reader derives them from the config (forward_<layer>, the cell's
// class, a custom backward_layer's own name): the same arrays, the same names.
TEST(WeightsOnlyTest, NamesWithoutSavedNameAttributes) {
  TempDir dir;
  for (const char* rel : {"k3/bidir_mixed_backward_layer_seq.keras", "k3/fmt_recurrent.full.keras",
                          "k3/fmt_nested_deep.full.keras", "k3/td_conv2d_pool_lstm.keras"}) {
    SCOPED_TRACE(rel);
    const RealArchive real = real_archive(rel);
    write_file(dir.file("arch.json"), real.config);
    write_file(dir.file("model.weights.h5"), real.weights);
    hid_t f = H5Fopen(dir.file("model.weights.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, drop_name, nullptr);
    H5Fclose(f);
    const KerasModel stripped = load_model(dir.file("arch.json"), dir.file("model.weights.h5"));
    expect_same_model(stripped, load_model(fixture(rel)), true);
  }
}

}  // namespace
}  // namespace kc2cpp::load
