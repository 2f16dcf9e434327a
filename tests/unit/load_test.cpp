// compiler/load: real Keras files (tests/fixtures, and the dtype files in tests/unit/data/h5 saved by
// real Keras), attribute encodings crafted with h5py (tests/unit/data/make_h5.py), and damaged files
// made here in a temporary directory.
//
// Expected numbers were READ with h5py from the committed files (not computed by the loader), e.g.
//   h5py.File("tests/fixtures/k3/summary_walkthrough.h5")["model_weights/dense/sequential/dense/kernel"][0, 0]
//   == -3.8584447 == -0x1.ede184p+1.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "unit_util.h"
#include "error.h"
#include "load/keras_model.h"

namespace kc2cpp::load {
namespace {

namespace fs = std::filesystem;

const std::string kSource = KC2CPP_SOURCE_DIR;
std::string fixture(const std::string& rel) { return kSource + "/tests/fixtures/" + rel; }
std::string data(const std::string& name) { return kSource + "/tests/unit/data/h5/" + name; }

#define REQUIRE_FILE(p) \
  if (!fs::exists(p)) GTEST_SKIP() << "missing: " << (p)

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

using unit_test::read_file;
using unit_test::write_file;
// A fresh directory, removed with its content at the end of the test.
struct TempDir : unit_test::TempDir {
  TempDir() : unit_test::TempDir("kc2cpp_load_test") {}
};

int open_hdf5_objects() { return static_cast<int>(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL)); }

// The message of the Error that loading `path` throws ("" and a test failure if none is thrown).
// In-process loading is used so that leaked HDF5 handles are visible; load_model is checked too.
std::string load_error(const std::string& path) {
  std::string in_process, isolated;
  try {
    load_model_in_process(path);
  } catch (const Error& e) {
    in_process = e.what();
  }
  EXPECT_EQ(open_hdf5_objects(), 0) << "HDF5 handles leaked loading " << path;
  try {
    load_model(path);
  } catch (const Error& e) {
    isolated = e.what();
  }
  EXPECT_EQ(in_process, isolated) << path;
  EXPECT_FALSE(in_process.empty()) << "no error for " << path;
  EXPECT_EQ(in_process.rfind(path + ": ", 0), 0u) << "the message must start with the path: " << in_process;
  return in_process;
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// ---- real files: tests/fixtures ---------------------------------------------------------------

struct ExpectedArray {
  std::string name;
  std::vector<int64_t> shape;
  float first, last;
};

// summary_walkthrough holds the same weights in k2 and k3; only the weight names differ.
void expect_summary_walkthrough(const KerasModel& m, const std::string& prefix, const std::string& suffix) {
  const std::vector<std::string> order = {"dense", "dense_1", "dropout", "dense_2", "leaky_re_lu", "dropout_1", "dense_3"};
  ASSERT_EQ(m.layers.size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(m.layers[i].layer, order[i]);
  auto w = [&](const std::string& layer, const char* var) { return prefix + layer + "/" + var + suffix; };
  const std::vector<std::pair<size_t, std::vector<ExpectedArray>>> expected = {
      {0, {{w("dense", "kernel"), {3, 32}, -0x1.ede184p+1f, -0x1.6d0f1cp+1f},
           {w("dense", "bias"), {32}, -0x1.648f28p-6f, 0x1.c2357cp-2f}}},
      {1, {{w("dense_1", "kernel"), {32, 32}, 0x1.178872p-1f, 0x1.2f246p-3f},
           {w("dense_1", "bias"), {32}, 0x1.7f1e3ep-3f, -0x1.1fe93ep-2f}}},
      {3, {{w("dense_2", "kernel"), {32, 16}, -0x1.b2cd9ep-3f, 0x1.403d22p-3f},
           {w("dense_2", "bias"), {16}, 0x1.82b034p-2f, -0x1.7534bep-2f}}},
      {6, {{w("dense_3", "kernel"), {16, 5}, 0x1.951ab4p+0f, 0x1.81e542p-1f},
           {w("dense_3", "bias"), {5}, -0x1.443734p-2f, -0x1.5ab7f4p-2f}}},
  };
  for (size_t weightless : {2, 4, 5}) EXPECT_TRUE(m.layers[weightless].arrays.empty()) << order[weightless];
  for (const auto& [index, arrays] : expected) {
    const LayerWeights& l = m.layers[index];
    ASSERT_EQ(l.arrays.size(), arrays.size()) << l.layer;
    for (size_t k = 0; k < arrays.size(); ++k) {
      const NamedArray& a = l.arrays[k];
      EXPECT_EQ(a.name, arrays[k].name);
      EXPECT_EQ(a.shape, arrays[k].shape) << a.name;
      int64_t n = 1;
      for (int64_t d : a.shape) n *= d;
      ASSERT_EQ(static_cast<int64_t>(a.data.size()), n) << a.name;
      EXPECT_EQ(bits(a.data.front()), bits(arrays[k].first)) << a.name;
      EXPECT_EQ(bits(a.data.back()), bits(arrays[k].last)) << a.name;
    }
  }
}

TEST(LoadTest, SummaryWalkthroughKeras3) {
  const std::string path = fixture("k3/summary_walkthrough.h5");
  REQUIRE_FILE(path);
  KerasModel m = load_model(path);
  EXPECT_EQ(m.path, path);
  EXPECT_EQ(m.keras_version, "3.12.0");
  EXPECT_EQ(m.backend, "jax");
  EXPECT_EQ(m.config.at("class_name"), "Sequential");
  EXPECT_EQ(m.config.at("config").at("layers").at(1).at("config").at("name"), "dense");
  expect_summary_walkthrough(m, "sequential/", "");  // Keras >= 3.3 names: "sequential/dense/kernel"
}

TEST(LoadTest, SummaryWalkthroughKeras2) {
  const std::string path = fixture("k2/summary_walkthrough.h5");
  REQUIRE_FILE(path);
  KerasModel m = load_model(path);
  EXPECT_EQ(m.keras_version, "2.15.0");
  EXPECT_EQ(m.backend, "tensorflow");
  EXPECT_EQ(m.config.at("class_name"), "Sequential");
  expect_summary_walkthrough(m, "", ":0");  // tf.keras names: "dense/kernel:0"
}

TEST(LoadTest, WeightsOfFindsLayersByName) {
  const std::string path = fixture("k3/summary_walkthrough.h5");
  REQUIRE_FILE(path);
  KerasModel m = load_model(path);
  ASSERT_NE(m.weights_of("dense_3"), nullptr);
  EXPECT_EQ(m.weights_of("dense_3")->arrays.at(0).shape, (std::vector<int64_t>{16, 5}));
  ASSERT_NE(m.weights_of("dropout"), nullptr);
  EXPECT_TRUE(m.weights_of("dropout")->arrays.empty());
  EXPECT_EQ(m.weights_of("no_such_layer"), nullptr);
}

// Every fixture's .json records the layer_names and weight_names h5py saw and the weight shapes Keras
// reported; the loader must agree on all of them, for both Keras versions.
TEST(LoadTest, EveryFixtureMatchesItsMetadata) {
  int checked = 0;
  for (const char* dir : {"k2", "k3"}) {
    if (!fs::is_directory(fixture(dir))) continue;
    for (const auto& entry : fs::directory_iterator(fixture(dir))) {
      const fs::path h5 = entry.path();
      const fs::path meta = fs::path(h5).replace_extension(".json");
      if (h5.extension() != ".h5" || !fs::exists(meta)) continue;
      nlohmann::json expected = nlohmann::json::parse(read_file(meta.string()));
      if (!expected.contains("h5")) continue;
      SCOPED_TRACE(h5.string());
      KerasModel m = load_model_in_process(h5.string());
      EXPECT_EQ(open_hdf5_objects(), 0);
      ++checked;
      EXPECT_EQ(m.keras_version, expected.at("keras_version"));
      EXPECT_EQ(m.backend, expected.at("backend"));
      EXPECT_EQ(m.config.at("class_name"), expected.at("model_class"));
      const auto& names = expected.at("h5").at("layer_names");
      ASSERT_EQ(m.layers.size(), names.size());
      for (size_t i = 0; i < names.size(); ++i) {
        const LayerWeights& l = m.layers[i];
        EXPECT_EQ(l.layer, names[i]);
        const auto& weight_names = expected.at("h5").at("weight_names").at(l.layer);
        ASSERT_EQ(l.arrays.size(), weight_names.size()) << l.layer;
        for (size_t k = 0; k < l.arrays.size(); ++k) EXPECT_EQ(l.arrays[k].name, weight_names[k]);
      }
      for (const auto& layer : expected.at("layers")) {
        const LayerWeights* l = m.weights_of(layer.at("name"));
        if (l == nullptr) continue;  // a Sequential's InputLayer has no group
        const auto& weights = layer.at("weights");
        ASSERT_EQ(l->arrays.size(), weights.size()) << l->layer;
        for (size_t k = 0; k < weights.size(); ++k)
          EXPECT_EQ(l->arrays[k].shape, weights[k].at("shape").get<std::vector<int64_t>>()) << l->arrays[k].name;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no fixtures with metadata under " << fixture("");
}

TEST(LoadTest, LegacyWeightsOnlyFileIsExplained) {
  const std::string path = fixture("k2/weights_only.h5");
  REQUIRE_FILE(path);
  std::string msg = load_error(path);
  EXPECT_CONTAINS(msg, "this is a weights-only file");
  EXPECT_CONTAINS(msg, "pass the full model saved with model.save('model.h5')");
}

TEST(LoadTest, Keras3WeightsOnlyFileIsExplained) {
  const std::string path = fixture("k3/weights_only.weights.h5");
  REQUIRE_FILE(path);
  std::string msg = load_error(path);
  EXPECT_CONTAINS(msg, "this is a Keras 3 weights-only file (*.weights.h5");
  EXPECT_CONTAINS(msg, "pass the full model saved with model.save('model.h5')");
}

TEST(LoadTest, KerasZipArchiveLoads) {  // every format is compared in load_formats_test.cpp
  const std::string path = fixture("k3/summary_walkthrough.keras");
  REQUIRE_FILE(path);
  KerasModel m = load_model(path);
  EXPECT_EQ(m.keras_version, "3.12.0");
  expect_summary_walkthrough(m, "", "");  // the Keras 3 layout's names: "dense/kernel"
}

// ---- real files with other weight dtypes: tests/unit/data/h5 (make_h5.py keras3 / tf2) ----------

// Dense(3) on 4 inputs with kernel (i - 5.5) / 4 (exact in every dtype) and bias [0.5, -0.25, 1e-3].
void expect_dense_dtype_file(const std::string& path, const std::string& version, float bias2) {
  KerasModel m = load_model(path);
  EXPECT_EQ(m.keras_version, version);
  ASSERT_EQ(m.layers.size(), 1u);
  ASSERT_EQ(m.layers[0].arrays.size(), 2u);
  const NamedArray& kernel = m.layers[0].arrays[0];
  const NamedArray& bias = m.layers[0].arrays[1];
  EXPECT_EQ(kernel.shape, (std::vector<int64_t>{4, 3}));
  ASSERT_EQ(kernel.data.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(kernel.data[i], (i - 5.5f) / 4) << i;
  ASSERT_EQ(bias.data.size(), 3u);
  EXPECT_EQ(bias.data[0], 0.5f);
  EXPECT_EQ(bias.data[1], -0.25f);
  EXPECT_EQ(bits(bias.data[2]), bits(bias2));
}

TEST(LoadTest, Keras3LegacyBfloat16IsOpaqueWithoutDtypeAttribute) {
  // Keras 3 writes bfloat16 weights in legacy .h5 as 2-byte opaque data with no marker at all.
  expect_dense_dtype_file(data("k3_dense_bfloat16.h5"), "3.12.0", 0x1.06p-10f);  // bfloat16(1e-3)
}

TEST(LoadTest, Float16WeightsWidenExactly) {
  expect_dense_dtype_file(data("k3_dense_float16.h5"), "3.12.0", 0x1.064p-10f);  // float16(1e-3)
  expect_dense_dtype_file(data("k2_dense_float16.h5"), "2.15.0", 0x1.064p-10f);
}

TEST(LoadTest, Float64WeightsRoundToNearest) {
  expect_dense_dtype_file(data("k2_dense_float64.h5"), "2.15.0", 1e-3f);
}

// ---- encodings crafted with h5py: tests/unit/data/h5/encodings.h5 ------------------------------

class EncodingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new KerasModel(load_model(data("encodings.h5"))); }
  static void TearDownTestSuite() { delete model_; }
  const LayerWeights& layer(const std::string& name) {
    const LayerWeights* l = model_->weights_of(name);
    EXPECT_NE(l, nullptr) << name;
    return l ? *l : empty_;
  }
  const NamedArray& array(const std::string& layer_name, const std::string& name) {
    for (const NamedArray& a : layer(layer_name).arrays)
      if (a.name == name) return a;
    ADD_FAILURE() << "no array " << name;
    return empty_array_;
  }
  static KerasModel* model_;
  LayerWeights empty_;
  NamedArray empty_array_;
};
KerasModel* EncodingsTest::model_ = nullptr;

TEST_F(EncodingsTest, FixedLengthAndVariableLengthRootAttributes) {
  EXPECT_EQ(model_->keras_version, "2.1.6");  // fixed-length NUL-padded
  EXPECT_EQ(model_->backend, "tensorflow");   // variable-length UTF-8
}

TEST_F(EncodingsTest, PythonNonFiniteNumbersInConfig) {
  const nlohmann::json& c = model_->config.at("config");
  EXPECT_TRUE(std::isnan(c.at("nan").get<double>()));
  EXPECT_EQ(c.at("inf").get<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(c.at("ninf").get<double>(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(c.at("list").at(0).get<double>()));
  EXPECT_EQ(c.at("list").at(1).get<double>(), 1.5);
  EXPECT_EQ(c.at("list").at(2).get<double>(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(c.at("s"), "NaN Infinity \"NaN\"");  // the same words inside strings stay text
  EXPECT_EQ(c.at("layers").at(0).at("config").at("name"), "d\xc3\xa9nse");
  EXPECT_EQ(c.at("layers").at(0).at("config").at("max").get<double>(), std::numeric_limits<double>::infinity());
}

TEST_F(EncodingsTest, ChunkedLayerNamesKeepOrder) {
  std::vector<std::string> names;
  for (const LayerWeights& l : model_->layers) names.push_back(l.layer);
  EXPECT_EQ(names, (std::vector<std::string>{"input", "d\xc3\xa9nse", "types", "empty", "no_names", "spaced"}));
}

TEST_F(EncodingsTest, EmptyWeightNamesInEveryForm) {
  EXPECT_TRUE(layer("input").arrays.empty());     // empty float64 array
  EXPECT_TRUE(layer("empty").arrays.empty());     // empty string array
  EXPECT_TRUE(layer("no_names").arrays.empty());  // no attribute
}

TEST_F(EncodingsTest, ChunkedFixedLengthWeightNames) {
  const LayerWeights& l = layer("d\xc3\xa9nse");
  ASSERT_EQ(l.arrays.size(), 2u);
  EXPECT_EQ(l.arrays[0].name, "d\xc3\xa9nse/kernel:0");
  EXPECT_EQ(l.arrays[1].name, "d\xc3\xa9nse/bias:0");
  EXPECT_EQ(l.arrays[0].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(l.arrays[0].data.at(11), 1.375f);
  EXPECT_EQ(l.arrays[1].data, (std::vector<float>{0.5f, -0.25f, 1e-3f}));
}

TEST_F(EncodingsTest, SpacePaddedNamesAreTrimmed) {
  const LayerWeights& l = layer("spaced");
  ASSERT_EQ(l.arrays.size(), 2u);
  EXPECT_EQ(l.arrays[0].name, "k");
  EXPECT_EQ(l.arrays[1].name, "long name");
  EXPECT_EQ(l.arrays[1].data, std::vector<float>{1.0f});
}

TEST_F(EncodingsTest, WeightNamesOrderNotFileOrder) {
  std::vector<std::string> names;
  for (const NamedArray& a : layer("types").arrays) names.push_back(a.name);
  EXPECT_EQ(names, (std::vector<std::string>{"f16", "f64", "i32", "u8", "i64", "bf16_attr", "bf16_bare", "scalar",
                                             "a/b/c:0"}));
}

TEST_F(EncodingsTest, Float16) {
  const NamedArray& a = array("types", "f16");
  const float inf = std::numeric_limits<float>::infinity();
  ASSERT_EQ(a.data.size(), 6u);
  EXPECT_EQ(a.data[0], 1.5f);
  EXPECT_EQ(bits(a.data[1]), bits(-0.0f));
  EXPECT_EQ(a.data[2], 0x1p-24f);  // 6e-8 is stored as the smallest float16 subnormal
  EXPECT_EQ(a.data[3], inf);
  EXPECT_TRUE(std::isnan(a.data[4]));
  EXPECT_EQ(a.data[5], 65504.0f);
}

TEST_F(EncodingsTest, Float64RoundsToNearestAndOverflowsToInfinity) {
  const NamedArray& a = array("types", "f64");
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(a.data, (std::vector<float>{0.1f, inf, -inf, std::numeric_limits<float>::max(), inf, 0.0f}));
}

TEST_F(EncodingsTest, Integers) {
  EXPECT_EQ(array("types", "i32").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array("types", "i32").data, (std::vector<float>{-7, 0, 16777216, 2}));  // 16777217 rounds
  EXPECT_EQ(array("types", "u8").data, (std::vector<float>{0, 255}));
  EXPECT_EQ(array("types", "i64").data, std::vector<float>{-0x1p40f});
}

TEST_F(EncodingsTest, Bfloat16WithAndWithoutDtypeAttribute) {
  for (const char* name : {"bf16_attr", "bf16_bare"}) {
    const NamedArray& a = array("types", name);
    ASSERT_EQ(a.data.size(), 4u) << name;
    EXPECT_EQ(a.data[0], 1.5f);
    EXPECT_EQ(a.data[1], -1.0f);
    EXPECT_EQ(a.data[2], std::numeric_limits<float>::infinity());
    EXPECT_EQ(bits(a.data[3]), 0x00010000u);  // the bfloat16 subnormal 0x0001, widened exactly
  }
}

TEST_F(EncodingsTest, ScalarAndNestedDatasets) {
  EXPECT_TRUE(array("types", "scalar").shape.empty());
  EXPECT_EQ(array("types", "scalar").data, std::vector<float>{2.5f});
  EXPECT_EQ(array("types", "a/b/c:0").shape, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(array("types", "a/b/c:0").data, (std::vector<float>{1, 1}));
}

TEST(LoadTest, IsolatedAndInProcessLoadsAgree) {
  KerasModel a = load_model(data("encodings.h5"));
  KerasModel b = load_model_in_process(data("encodings.h5"));
  EXPECT_EQ(open_hdf5_objects(), 0);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.keras_version, b.keras_version);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(nlohmann::json::to_cbor(a.config), nlohmann::json::to_cbor(b.config));  // NaN survives the pipe
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].layer, b.layers[i].layer);
    ASSERT_EQ(a.layers[i].arrays.size(), b.layers[i].arrays.size());
    for (size_t k = 0; k < a.layers[i].arrays.size(); ++k) {
      const NamedArray &x = a.layers[i].arrays[k], &y = b.layers[i].arrays[k];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.shape, y.shape);
      ASSERT_EQ(x.data.size(), y.data.size());
      EXPECT_EQ(std::memcmp(x.data.data(), y.data.data(), x.data.size() * 4), 0) << x.name;
    }
  }
}

TEST(LoadTest, Keras1StyleWeightsAtRoot) {
  KerasModel m = load_model(data("keras1_root_weights.h5"));
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].arrays.at(0).name, "dense/kernel:0");
  EXPECT_EQ(m.layers[0].arrays.at(0).data, (std::vector<float>{3, 3}));
}

// ---- crafted bad files -------------------------------------------------------------------------

TEST(LoadErrorTest, InvalidJsonSaysWhere) {
  std::string msg = load_error(data("bad_json.h5"));
  EXPECT_CONTAINS(msg, "the model_config attribute is not valid JSON: at byte 52 of 52: syntax error");
  EXPECT_CONTAINS(msg, "save the model again with model.save('model.h5')");
  // Positions count in the original text even after a NaN was rewritten before the error.
  EXPECT_CONTAINS(load_error(data("bad_json_after_nan.h5")), "not valid JSON: at byte 17 of 17");
}

TEST(LoadErrorTest, ConfigWithoutClassNameOrConfig) {
  EXPECT_CONTAINS(load_error(data("no_class_name.h5")),
                  "the model_config attribute is not a Keras model config: it has no \"class_name\" string");
  EXPECT_CONTAINS(load_error(data("no_config.h5")), "it has no \"config\" object");
  EXPECT_CONTAINS(load_error(data("config_not_object.h5")), "it is a JSON array, not an object");
  EXPECT_CONTAINS(load_error(data("empty_config.h5")), "the model_config attribute is empty");
}

TEST(LoadErrorTest, InconsistentWeightGroups) {
  EXPECT_CONTAINS(load_error(data("no_model_weights.h5")), "has a model config but no weights (no 'model_weights' group)");
  EXPECT_CONTAINS(load_error(data("missing_layer_group.h5")),
                  "layer 'ghost' is listed in the layer_names of /model_weights but has no group there");
  EXPECT_CONTAINS(load_error(data("missing_dataset.h5")),
                  "weight 'dense/kernel:0' is listed in the weight_names of /model_weights/dense but there is no such dataset");
}

TEST(LoadErrorTest, UnsupportedElementType) {
  std::string msg = load_error(data("bool_weight.h5"));
  EXPECT_CONTAINS(msg, "dataset /model_weights/dense/mask:0 has elements of type enum (e.g. bool), 1 byte, which kc2cpp cannot read");
}

TEST(LoadErrorTest, HDF5FileThatIsNotKeras) {
  EXPECT_CONTAINS(load_error(data("not_keras.h5")),
                  "this is an HDF5 file but not a Keras model (no 'model_config' attribute at its root)");
}

// ---- files that are not HDF5, made here ----------------------------------------------------------

TEST(LoadErrorTest, MissingFileAndDirectory) {
  TempDir dir;
  EXPECT_CONTAINS(load_error(dir.file("absent.h5")), "file not found; check the path");
  EXPECT_CONTAINS(load_error(dir.file("absent_dir/model.h5")), "file not found");
  fs::create_directory(dir.file("saved_model"));
  EXPECT_CONTAINS(load_error(dir.file("saved_model")), "this is a directory, not a model file; a TensorFlow SavedModel");
}

TEST(LoadErrorTest, EmptyTextJsonAndBinaryFiles) {
  TempDir dir;
  write_file(dir.file("empty.h5"), "");
  EXPECT_CONTAINS(load_error(dir.file("empty.h5")), "the file is empty (0 bytes)");
  write_file(dir.file("notes.h5"), "This is not a model.\nJust text.\n");
  EXPECT_CONTAINS(load_error(dir.file("notes.h5")), "this is a text file, not an HDF5 file");
  write_file(dir.file("arch.json"), "  {\"class_name\": \"Sequential\", \"config\": {}}");
  EXPECT_CONTAINS(load_error(dir.file("arch.json")), "this is a model architecture (model.to_json()) without weights; pass its weights too");
  write_file(dir.file("list.json"), "[1, 2]");
  EXPECT_CONTAINS(load_error(dir.file("list.json")), "this is JSON text, not a Keras model file");
  write_file(dir.file("noise.bin"), std::string("\x00\x01\x02\xff\xfe", 5) + std::string(100, '\x07'));
  EXPECT_CONTAINS(load_error(dir.file("noise.bin")), "this is not an HDF5 file (no HDF5 signature)");
}

TEST(LoadErrorTest, ZipArchives) {
  TempDir dir;
  write_file(dir.file("empty.zip"), std::string("PK\x05\x06", 4) + std::string(18, '\0'));  // a valid empty zip
  EXPECT_CONTAINS(load_error(dir.file("empty.zip")), "this is a zip archive, not a Keras model file");
}

// ---- damaged copies of real files ------------------------------------------------------------------

std::vector<std::string> real_sources() {
  std::vector<std::string> out = {data("k3_dense_float16.h5")};
  if (fs::exists(fixture("k3/summary_walkthrough.h5"))) out.push_back(fixture("k3/summary_walkthrough.h5"));
  if (fs::exists(fixture("k2/summary_walkthrough.h5"))) out.push_back(fixture("k2/summary_walkthrough.h5"));
  return out;
}

TEST(LoadErrorTest, TruncatedCopies) {
  TempDir dir;
  for (const std::string& source : real_sources()) {
    const std::string bytes = read_file(source);
    ASSERT_GT(bytes.size(), 4096u);
    const std::string cut = dir.file("cut.h5");
    write_file(cut, bytes.substr(0, 4));
    EXPECT_CONTAINS(load_error(cut), "the file is truncated (only 4 bytes, shorter than an HDF5 header)");
    for (size_t size : {size_t{8}, size_t{100}, size_t{1000}, bytes.size() / 2, bytes.size() - 1}) {
      SCOPED_TRACE(source + " cut to " + std::to_string(size));
      write_file(cut, bytes.substr(0, size));
      std::string msg = load_error(cut);
      EXPECT_CONTAINS(msg, "this HDF5 file is damaged or truncated");
      EXPECT_CONTAINS(msg, "copy the file again or save the model again with model.save('model.h5')");
    }
  }
}

TEST(LoadErrorTest, FlippedBytesInJsonAndSignature) {
  TempDir dir;
  for (const std::string& source : real_sources()) {
    std::string bytes = read_file(source);
    const std::string bad = dir.file("flipped.h5");
    std::string copy = bytes;
    copy[1] ^= 0x20;  // 'H' of the signature
    write_file(bad, copy);
    EXPECT_CONTAINS(load_error(bad), "this is not an HDF5 file (no HDF5 signature)");

    size_t json = bytes.find("{\"class_name\": \"Sequential\"");
    ASSERT_NE(json, std::string::npos) << source;
    copy = bytes;
    copy[json + 1] = '\'';  // {'class_name": ... is not JSON
    write_file(bad, copy);
    EXPECT_CONTAINS(load_error(bad), "the model_config attribute is not valid JSON: at byte 2 of ");
  }
}

// With libhdf5 1.10.8, XOR-ing byte 902 of this file with 0x5a makes H5Aread segfault inside the
// global heap (H5HG_read; found by flipping every byte). load_model runs the HDF5 reading in a child
// process and reports the crash as an Error; a fixed libhdf5 would report a plain error instead.
TEST(LoadErrorTest, CrashInsideHdf5BecomesAnError) {
  TempDir dir;
  std::string bytes = read_file(data("k3_dense_float16.h5"));
  ASSERT_GT(bytes.size(), 902u);
  bytes[902] ^= 0x5a;
  const std::string bad = dir.file("crashes_hdf5.h5");
  write_file(bad, bytes);
  try {
    load_model(bad);
    ADD_FAILURE() << "the damaged file loaded";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(bad + ": ", 0), 0u) << msg;
    if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE == 8) {
      EXPECT_CONTAINS(msg, "the HDF5 library crashed while reading this file (");  // signal 11; under ASan: exit status 1
    }
  }
}

// Flips a byte every 127 bytes through a whole real file. libhdf5 1.10 itself can crash or hang on
// some damaged metadata (fuzzing found both); load_model survives that in a child process. Every
// outcome must be a loaded model or an Error naming the file; damage in raw weight data cannot be
// detected (Keras writes no checksums) and loads as different numbers.
TEST(LoadErrorTest, FlippedBytesNeverCrash) {
  TempDir dir;
  const std::string bytes = read_file(data("k3_dense_float16.h5"));
  const std::string bad = dir.file("flipped.h5");
  int errors = 0, loaded = 0;
  for (size_t at = 0; at < bytes.size(); at += 127) {
    std::string copy = bytes;
    copy[at] ^= 0x5a;
    write_file(bad, copy);
    try {
      load_model(bad);
      ++loaded;
    } catch (const Error& e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).rfind(bad + ": ", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace kc2cpp::load
