// The corrupt-file corpus of issue 16, through the real kc2cpp binary: truncated and bit-flipped
// .h5 and .keras files, model configs with wrong types, missing keys, huge, negative and zero sizes
// and 30,000-deep nesting, weights of the wrong shape or type, files that are not models, the fuzz
// targets' regression inputs, and usage errors. Every case is made at test time from a real fixture
// (the model_config attribute and the datasets rewritten with the HDF5 C API), so nothing but the
// fixtures is committed.
//
// Each refusal meets expect_refused (hostile_util.h): exit code 1, "kc2cpp: error: <the file>: ..."
// naming the layer where there is one, no "internal error", no output or temporary file, under 5 s
// and 1 GiB. Usage errors exit 2. A bit flip may hit weight values only; such a file compiles (exit
// 0, a complete output), and every other outcome is a refusal as above. Device, FIFO, symlink, input
// as output, missing and read-only directory and signal cases are in hostile_test.cpp.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "driver/driver.h"
#include "e2e_util.h"
#include "emit/emit.h"
#include "hostile_util.h"
#include "load/keras_model.h"
#include "lower/lower.h"
#include "plan/plan.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace kc2cpp::e2e {
namespace {

const char* const kSequential = "tests/fixtures/k3/summary_walkthrough";  // .h5 and .keras
const char* const kFunctional = "tests/fixtures/k3/graph_merges.h5";
const char* const kKernel = "/model_weights/dense/sequential/dense/kernel";  // float32 [3, 32]

int g_cases = 0;  // runs of kc2cpp in the current test

// Prints the current test's count of runs (the corpus is the sum over this file's tests).
struct CountRuns {
  CountRuns() { g_cases = 0; }
  ~CountRuns() {
    std::printf("[ corrupt  ] %s: %d runs of kc2cpp\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(), g_cases);
  }
};

// Runs `kc2cpp <model> -o <dir>/out/m.cpp --header <dir>/out/m.h` and `kc2cpp inspect <model>`; both
// must be refused naming `model` and mentioning `mentions`.
void expect_file_refused(const std::string& dir, const std::string& model, const std::vector<std::string>& mentions,
                         const std::vector<std::string>& extra_args = {}) {
  fs::create_directories(dir + "/out");
  std::vector<std::string> compile = {model, "-o", dir + "/out/m.cpp", "--header", dir + "/out/m.h"};
  compile.insert(compile.end(), extra_args.begin(), extra_args.end());
  std::vector<std::string> inspect = {"inspect", model};
  inspect.insert(inspect.end(), extra_args.begin(), extra_args.end());
  for (const std::vector<std::string>& args : {compile, inspect}) {
    const Outcome r = run_kc2cpp(args, dir + "/run");
    expect_refused(r, model, mentions, dir + "/out", {});
    ++g_cases;
  }
}

// A bit-flipped file: refused as above, or compiled completely (the flip hit a weight's value).
// Returns true if it was refused.
bool expect_refused_or_compiled(const std::string& dir, const std::string& model) {
  fs::create_directories(dir + "/out");
  const Outcome r = run_kc2cpp({model, "-o", dir + "/out/m.cpp"}, dir + "/run");
  ++g_cases;
  if (r.exit_code == 0) {
    EXPECT_EQ(joined(tree(dir + "/out")), "[m.cpp]");
    EXPECT_LT(r.seconds, kMaxSeconds);
    EXPECT_LT(r.max_resident_kb, kMaxResidentKb);
    fs::remove(dir + "/out/m.cpp");
    return false;
  }
  expect_refused(r, model, {}, dir + "/out", {});
  return true;
}

// ---- making the cases ------------------------------------------------------------------------

// A copy of fixture `from` (relative to the source tree) at <dir>/<name>, with `edit` applied to its bytes.
std::string edited_copy(const std::string& dir, const std::string& from, const std::string& name,
                        const std::function<void(std::string&)>& edit) {
  std::string bytes = read_file(source_dir() + "/" + from);
  edit(bytes);
  const std::string path = dir + "/" + name;
  write_file(path, bytes);
  return path;
}

// Opens <dir>/model.h5, a copy of `from`, read-write for `mutate`.
std::string mutated_h5(const std::string& dir, const std::string& from, const std::function<void(hid_t)>& mutate) {
  const std::string model = dir + "/model.h5";
  fs::copy_file(source_dir() + "/" + from, model, fs::copy_options::overwrite_existing);
  const hid_t f = H5Fopen(model.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  mutate(f);
  H5Fclose(f);
  return model;
}

// Replaces (or adds) the variable-length string attribute `name` of object `obj`.
void set_string_attribute(hid_t obj, const char* name, const std::string& text) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* p = text.c_str();
  EXPECT_GE(H5Awrite(a, type, &p), 0);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

// Replaces the attribute `name` of object `obj` by a scalar int32 (where Keras writes text).
void set_int_attribute(hid_t obj, const char* name, int value) {
  H5Adelete(obj, name);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, &value);
  H5Aclose(a);
  H5Sclose(space);
}

std::string model_config_of(const std::string& from) {
  const hid_t f = H5Fopen((source_dir() + "/" + from).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t a = H5Aopen(f, "model_config", H5P_DEFAULT);
  const hid_t type = H5Aget_type(a);
  char* p = nullptr;
  H5Aread(a, type, &p);
  std::string text = p ? p : "";
  H5free_memory(p);
  H5Tclose(type);
  H5Aclose(a);
  H5Fclose(f);
  return text;
}

// <dir>/model.h5: fixture `from` with its model_config replaced by `text`.
std::string with_config_text(const std::string& dir, const std::string& from, const std::string& text) {
  return mutated_h5(dir, from, [&](hid_t f) { set_string_attribute(f, "model_config", text); });
}

// <dir>/model.h5: fixture `from` with `edit` applied to its parsed model_config.
std::string with_config(const std::string& dir, const std::string& from, const std::function<void(json&)>& edit) {
  json config = json::parse(model_config_of(from));
  edit(config);
  return with_config_text(dir, from, config.dump());
}

// The kernel of the first Dense layer replaced by a dataset of `type` and `dims` (rank 0: scalar).
void replace_kernel(hid_t f, hid_t type, const std::vector<hsize_t>& dims) {
  ASSERT_GE(H5Ldelete(f, kKernel, H5P_DEFAULT), 0);
  const hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                                   : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t d = H5Dcreate2(f, kKernel, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  const std::vector<char> zeros(H5Tget_size(type) * static_cast<size_t>(H5Sget_simple_extent_npoints(space)) + 1, 0);
  H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());  // stored: the data is really there
  H5Dclose(d);
  H5Sclose(space);
}

// ---- truncations and bit flips -----------------------------------------------------------------

TEST(CorruptCorpus, TruncatedFilesAreRefused) {
  const CountRuns count;
  for (const char* ext : {".h5", ".keras"}) {
    const std::string from = std::string(kSequential) + ext;
    const size_t size = fs::file_size(source_dir() + "/" + from);
    std::vector<size_t> cuts = {1, 7, 8, 100, 511, 512, 1000, 2048, 4096, 8192};
    for (size_t k = 1; k < 8; ++k) cuts.push_back(size * k / 8);
    for (size_t tail : {4096, 1000, 100, 22, 1}) cuts.push_back(size - tail);
    for (size_t cut : cuts) {
      SCOPED_TRACE(from + " cut to " + std::to_string(cut));
      const std::string dir = case_dir("truncated" + std::string(ext) + "-" + std::to_string(cut));
      const std::string model = edited_copy(dir, from, std::string("model") + ext, [&](std::string& b) { b.resize(cut); });
      expect_file_refused(dir, model, {});
    }
  }
}

TEST(CorruptCorpus, BitFlippedFilesAreRefusedOrCompiled) {
  const CountRuns count;
  std::mt19937 rng(16);  // fixed: the same flips every run
  int refused = 0, flips = 0;
  for (const char* ext : {".h5", ".keras"}) {
    const std::string from = std::string(kSequential) + ext;
    const size_t size = fs::file_size(source_dir() + "/" + from);
    for (int i = 0; i < 24; ++i, ++flips) {
      const size_t at = rng() % size;
      const char mask = static_cast<char>(1 << (rng() % 8));
      SCOPED_TRACE(from + " byte " + std::to_string(at));
      const std::string dir = case_dir("flip" + std::string(ext) + "-" + std::to_string(i));
      const std::string model = edited_copy(dir, from, std::string("model") + ext, [&](std::string& b) { b[at] ^= mask; });
      refused += expect_refused_or_compiled(dir, model);
    }
  }
  std::printf("[ corrupt  ] %d bit flips: %d refused, %d compiled (weight values)\n", flips, refused, flips - refused);
}

// ---- cases of one kind ---------------------------------------------------------------------------

// `make`: what the case changes (a config edit, a config text, an HDF5 mutation, a file's bytes).
template <class T>
struct Case {
  const char* name;
  T make;
  std::vector<std::string> mentions;  // the layer and what is wrong
};

// Each case made in a fresh directory "<prefix><name>" by `model_of(dir, case)`, then refused.
template <class T, class F>
void refuse_all(const std::string& prefix, const std::vector<Case<T>>& cases, F model_of) {
  for (const Case<T>& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = case_dir(prefix + c.name);
    expect_file_refused(dir, model_of(dir, c), c.mentions);
  }
}

// ---- model configs -----------------------------------------------------------------------------

using ConfigCase = Case<std::function<void(json&)>>;

void run_config_cases(const std::string& from, const std::vector<ConfigCase>& cases) {
  refuse_all("config-", cases, [&](const std::string& dir, const ConfigCase& c) { return with_config(dir, from, c.make); });
}

json& layer(json& config, int i) { return config["config"]["layers"][i]; }
json& dense(json& config) { return layer(config, 1)["config"]; }  // Sequential: 'dense', Dense(32) on 3 inputs
json& input(json& config) { return layer(config, 0)["config"]; }

TEST(CorruptCorpus, SequentialConfigsWithBadValuesAreRefused) {
  const CountRuns count;
  const std::string from = std::string(kSequential) + ".h5";
  const std::string dense_layer = "layer 'dense' (Dense)";
  run_config_cases(from, {
      {"units-negative", [](json& c) { dense(c)["units"] = -1; }, {dense_layer, "units"}},
      {"units-zero", [](json& c) { dense(c)["units"] = 0; }, {dense_layer}},
      {"units-2-31", [](json& c) { dense(c)["units"] = int64_t{1} << 31; }, {dense_layer}},
      {"units-2-62", [](json& c) { dense(c)["units"] = int64_t{1} << 62; }, {dense_layer}},
      {"units-uint64-max", [](json& c) { dense(c)["units"] = UINT64_MAX; }, {dense_layer}},
      {"units-string", [](json& c) { dense(c)["units"] = "32"; }, {dense_layer, "units"}},
      {"units-float", [](json& c) { dense(c)["units"] = 32.5; }, {dense_layer, "units"}},
      {"units-null", [](json& c) { dense(c)["units"] = nullptr; }, {dense_layer, "units"}},
      {"units-list", [](json& c) { dense(c)["units"] = {32}; }, {dense_layer, "units"}},
      {"units-missing", [](json& c) { dense(c).erase("units"); }, {dense_layer, "units"}},
      {"use-bias-string", [](json& c) { dense(c)["use_bias"] = "yes"; }, {dense_layer, "use_bias"}},
      {"activation-number", [](json& c) { dense(c)["activation"] = 5; }, {dense_layer, "activation"}},
      {"activation-unknown", [](json& c) { dense(c)["activation"] = "nope"; }, {dense_layer, "activation"}},
      {"activation-object", [](json& c) { dense(c)["activation"] = {{"class_name", 5}}; }, {dense_layer, "activation"}},
      {"leaky-slope-string", [](json& c) { layer(c, 5)["config"]["negative_slope"] = "x"; }, {"leaky_re_lu", "negative_slope"}},
      {"leaky-slope-huge", [](json& c) { layer(c, 5)["config"]["negative_slope"] = 1e300; }, {"leaky_re_lu", "negative_slope"}},
      {"class-unknown", [](json& c) { layer(c, 2)["class_name"] = "Nope"; }, {"layer 'dense_1' (Nope)", "not supported"}},
      {"class-number", [](json& c) { layer(c, 2)["class_name"] = 7; }, {"dense_1"}},
      {"class-lambda", [](json& c) { layer(c, 2)["class_name"] = "Lambda"; }, {"layer 'dense_1' (Lambda)"}},
      {"layer-name-number", [](json& c) { dense(c)["name"] = 7; }, {"Dense"}},
      {"layer-name-empty", [](json& c) { dense(c)["name"] = ""; }, {"Dense"}},
      {"layer-config-string", [](json& c) { layer(c, 1)["config"] = "x"; }, {"Dense"}},
      {"layer-not-object", [](json& c) { layer(c, 1) = 5; }, {}},
      {"batch-shape-negative", [](json& c) { input(c)["batch_shape"] = {nullptr, -10}; }, {"input dimension 1", "-10"}},
      {"batch-shape-zero", [](json& c) { input(c)["batch_shape"] = {nullptr, 0}; }, {"input dimension 1"}},
      {"batch-shape-none", [](json& c) { input(c)["batch_shape"] = {nullptr, nullptr}; }, {"input dimension 1", "not fixed"}},
      {"batch-shape-huge", [](json& c) { input(c)["batch_shape"] = {nullptr, int64_t{1} << 40}; }, {}},
      {"batch-shape-product", [](json& c) { input(c)["batch_shape"] = {nullptr, 1 << 16, 1 << 16}; }, {}},
      {"batch-shape-scalar", [](json& c) { input(c)["batch_shape"] = {nullptr}; }, {"scalar"}},
      {"batch-shape-empty", [](json& c) { input(c)["batch_shape"] = json::array(); }, {"batch shape"}},
      {"batch-shape-string", [](json& c) { input(c)["batch_shape"] = "x"; }, {"batch shape"}},
      {"batch-shape-missing", [](json& c) { input(c).erase("batch_shape"); }, {"batch_shape"}},
      {"input-dtype-string", [](json& c) { input(c)["dtype"] = "complex64"; }, {"dtype"}},
      {"input-dtype-number", [](json& c) { input(c)["dtype"] = 3; }, {}},
      {"layers-missing", [](json& c) { c["config"].erase("layers"); }, {"layer list"}},
      {"layers-object", [](json& c) { c["config"]["layers"] = json::object(); }, {"layer list"}},
      {"layers-empty", [](json& c) { c["config"]["layers"] = json::array(); }, {"no layers"}},
      {"class-name-missing", [](json& c) { c.erase("class_name"); }, {"class_name"}},
      {"class-name-number", [](json& c) { c["class_name"] = 5; }, {"class_name"}},
      {"model-class-unknown", [](json& c) { c["class_name"] = "Graph"; }, {"model class 'Graph'"}},
      {"config-missing", [](json& c) { c.erase("config"); }, {"config"}},
      {"config-number", [](json& c) { c["config"] = 1; }, {"config"}},
      {"whole-array", [](json& c) { c = json::array(); }, {"not an object"}},
      {"whole-string", [](json& c) { c = "model"; }, {}},
      {"units-wrong-for-weights", [](json& c) { dense(c)["units"] = 31; }, {dense_layer, "the file's weights do not belong"}},
      {"repeat-vector-2-31", [](json& c) {
         c["config"]["layers"] = {layer(c, 0), {{"class_name", "RepeatVector"}, {"config", {{"name", "rep"}, {"n", 2147483647}}}},
                                  {{"class_name", "GlobalAveragePooling1D"}, {"config", {{"name", "gap"}}}}};
       }, {"layer 'rep' (RepeatVector)"}},
      {"reshape-overflow", [](json& c) {
         c["config"]["layers"] = {layer(c, 0), {{"class_name", "Reshape"},
                                                {"config", {{"name", "re"}, {"target_shape", {-1, int64_t{1} << 32, int64_t{1} << 32}}}}}};
       }, {"layer 're' (Reshape)", "target_shape"}},
  });
}

TEST(CorruptCorpus, ConfigTextsThatAreNotJsonAreRefused) {
  const CountRuns count;
  const std::string from = std::string(kSequential) + ".h5";
  const std::string good = model_config_of(from);
  const std::vector<Case<std::string>> cases = {
      {"empty", "", {"the model_config attribute is empty"}},
      {"cut", good.substr(0, good.size() / 2), {"not valid JSON", "ends too early"}},
      {"number-1e400", std::string(R"({"class_name": "Sequential", "config": {"layers": [], "x": 1e400}})"), {"out of range"}},
      {"deep-30000", std::string(30000, '[') + std::string(30000, ']'), {"more than 1000 deep"}},
      {"deep-objects", [] {
         std::string s;
         for (int i = 0; i < 5000; ++i) s += R"({"a":)";
         return s + "1" + std::string(5000, '}');
       }(), {"more than 1000 deep"}},
      {"binary", std::string("\x01\x02\xff{", 4), {"not valid JSON"}},
      {"nan-word", R"({"class_name": NaN, "config": {}})", {"class_name"}},
      {"trailing", good + "}", {"not valid JSON"}},
  };
  refuse_all("config-text-", cases, [&](const std::string& dir, const Case<std::string>& c) {
    return with_config_text(dir, from, c.make);
  });
}

// graph_merges: input_layer -> Dense a, b, c -> merges -> ... -> head.
TEST(CorruptCorpus, FunctionalConfigsWithBadGraphsAreRefused) {
  const CountRuns count;
  auto refs_of = [](json& c, int i) -> json& { return layer(c, i)["inbound_nodes"][0]["args"][0]; };
  auto history = [&](json& c, int i) -> json& { return refs_of(c, i)["config"]["keras_history"]; };
  run_config_cases(kFunctional, {
      {"ref-missing-layer", [&](json& c) { history(c, 2)[0] = "nowhere"; }, {"'nowhere'"}},
      {"ref-node-huge", [&](json& c) { history(c, 2)[1] = int64_t{1} << 62; }, {"'input_layer'"}},
      {"ref-node-negative", [&](json& c) { history(c, 2)[1] = -1; }, {"'input_layer'"}},
      {"ref-tensor-huge", [&](json& c) { history(c, 2)[2] = int64_t{1} << 62; }, {"'input_layer'"}},
      {"ref-tensor-negative", [&](json& c) { history(c, 2)[2] = -3; }, {"'input_layer'"}},
      {"ref-string-node", [&](json& c) { history(c, 2)[1] = "0"; }, {"'b'"}},
      {"ref-cycle", [&](json& c) { history(c, 1)[0] = "b"; history(c, 2)[0] = "a"; }, {"cycle"}},
      {"ref-self", [&](json& c) { history(c, 1)[0] = "a"; }, {"'a'"}},
      {"inbound-not-list", [&](json& c) { layer(c, 1)["inbound_nodes"] = 5; }, {"layer 'a'", "inbound_nodes"}},
      {"inbound-node-number", [&](json& c) { layer(c, 1)["inbound_nodes"] = {5}; }, {"layer 'a'"}},
      {"input-layers-missing-layer", [](json& c) { c["config"]["input_layers"] = {"nowhere", 0, 0}; }, {"'nowhere'"}},
      {"input-layers-not-input", [](json& c) { c["config"]["input_layers"] = {"a", 0, 0}; }, {"'a'", "not an InputLayer"}},
      {"input-layers-30000-deep", [](json& c) {
         json v = {"input_layer", 0, 0};
         for (int i = 0; i < 30000; ++i) v = json::array({std::move(v)});
         c["config"]["input_layers"] = std::move(v);
       }, {"more than 1000 deep"}},
      {"output-layers-empty", [](json& c) { c["config"]["output_layers"] = json::array(); }, {"no outputs"}},
      {"output-layers-missing-layer", [](json& c) { c["config"]["output_layers"] = {"nowhere", 0, 0}; }, {"'nowhere'"}},
      {"duplicate-layer-name", [](json& c) { layer(c, 2)["name"] = "a"; layer(c, 2)["config"]["name"] = "a"; }, {"two layers 'a'"}},
      {"nameless-layer", [](json& c) { layer(c, 2).erase("name"); layer(c, 2)["config"].erase("name"); }, {"no name"}},
      {"stray-input-layer", [](json& c) {
         json stray = layer(c, 0);
         stray["name"] = stray["config"]["name"] = "stray";
         stray["inbound_nodes"] = layer(c, 1)["inbound_nodes"];
         c["config"]["layers"].push_back(stray);
         c["config"]["output_layers"] = {"stray", 0, 0};
       }, {"stray"}},
  });
}

// ---- weights -----------------------------------------------------------------------------------

TEST(CorruptCorpus, WeightsOfTheWrongShapeOrTypeAreRefused) {
  const CountRuns count;
  using WeightCase = Case<std::function<void(hid_t)>>;
  const std::string from = std::string(kSequential) + ".h5";
  const std::vector<WeightCase> cases = {
      {"kernel-shape", [](hid_t f) { replace_kernel(f, H5T_IEEE_F32LE, {4, 32}); }, {"layer 'dense'", "kernel"}},
      {"kernel-rank", [](hid_t f) { replace_kernel(f, H5T_IEEE_F32LE, {96}); }, {"layer 'dense'", "kernel"}},
      {"kernel-scalar", [](hid_t f) { replace_kernel(f, H5T_IEEE_F32LE, {}); }, {"kernel"}},
      {"kernel-empty", [](hid_t f) { replace_kernel(f, H5T_IEEE_F32LE, {0, 32}); }, {"kernel"}},
      {"kernel-opaque", [](hid_t f) {
         const hid_t t = H5Tcreate(H5T_OPAQUE, 4);
         replace_kernel(f, t, {3, 32});
         H5Tclose(t);
       }, {"kernel"}},
      {"kernel-string", [](hid_t f) {
         const hid_t t = H5Tcopy(H5T_C_S1);
         H5Tset_size(t, 8);
         replace_kernel(f, t, {3, 32});
         H5Tclose(t);
       }, {"kernel"}},
      {"kernel-missing", [](hid_t f) { H5Ldelete(f, kKernel, H5P_DEFAULT); }, {"kernel"}},
      {"weight-names-number", [](hid_t f) {
         const hid_t g = H5Gopen2(f, "/model_weights/dense", H5P_DEFAULT);
         set_int_attribute(g, "weight_names", 7);
         H5Gclose(g);
       }, {"weight_names"}},
      {"layer-group-missing", [](hid_t f) { H5Ldelete(f, "/model_weights/dense", H5P_DEFAULT); }, {"dense"}},
      {"weights-group-missing", [](hid_t f) { H5Ldelete(f, "/model_weights", H5P_DEFAULT); }, {"model_weights"}},
      {"keras-version-number", [](hid_t f) { set_int_attribute(f, "keras_version", 3); }, {"keras_version"}},
      {"model-config-missing", [](hid_t f) { H5Adelete(f, "model_config"); }, {"model_config"}},
  };
  refuse_all("weights-", cases, [&](const std::string& dir, const WeightCase& c) { return mutated_h5(dir, from, c.make); });
}

// NaN and infinite weights are what training left: the file compiles, with a warning naming the layer
// and the array.
TEST(CorruptCorpus, NonFiniteWeightsCompileWithAWarning) {
  const CountRuns count;
  const std::string dir = case_dir("weights-nan");
  const std::string model = mutated_h5(dir, std::string(kSequential) + ".h5", [](hid_t f) {
    const hid_t d = H5Dopen2(f, kKernel, H5P_DEFAULT);
    std::vector<float> v(96, 0.25f);
    v[5] = std::nanf("");
    v[7] = -INFINITY;
    v[9] = INFINITY;
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
  });
  fs::create_directories(dir + "/out");
  const std::string warning = "kc2cpp: warning: " + model + ": layer 'dense': weight 'sequential/dense/kernel' holds 1 "
                              "NaN and 2 infinite value(s) of 96; kc2cpp computes with them as they are (the outputs "
                              "may be NaN): check the training\n";
  // compile, eval and inspect warn alike (driver::load_model_warning)
  const std::string x = source_dir() + "/" + kSequential + ".x0.npy";
  for (const std::vector<std::string>& args : {std::vector<std::string>{model, "-o", dir + "/out/m.cpp"},
                                               {"eval", model, "--input", x, "--output", dir + "/out/y.npy"},
                                               {"inspect", model}}) {
    SCOPED_TRACE(joined(args));
    const Outcome r = run_kc2cpp(args, dir + "/run");
    ++g_cases;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, warning);
  }
  EXPECT_EQ(joined(tree(dir + "/out")), "[m.cpp, y.npy]");
}

// The generated file's second line of defence: a workspace beyond int indices does not compile, even if
// the planner's check were gone (the plan is forged here; make_plan refuses such a model itself).
TEST(CorruptCorpus, GeneratedCodeStaticAssertsItsSizesFitInt) {
  if (!have_program("g++")) GTEST_SKIP() << "SKIPPED: g++ not found";
  const std::string dir = case_dir("static-assert");
  const ir::Graph g = driver::compile_graph(load::load_model(source_dir() + "/" + kSequential + ".h5"),
                                            ir::FpMode::Unfused);
  plan::Plan plan = plan::make_plan(g);
  for (const int64_t arena : {plan.arena_floats, int64_t{1} << 31, (int64_t{1} << 32) + 64}) {
    SCOPED_TRACE(arena);
    plan.arena_floats = arena;
    write_file(dir + "/m.cpp", emit::emit(g, plan, {"m", "m.h5", ""}).source);
    const RunResult r = run({"g++", "-std=c++17", "-fsyntax-only", dir + "/m.cpp"});
    if (arena == (int64_t{1} << 31) || arena > (int64_t{1} << 31)) {
      EXPECT_NE(r.exit_code, 0);
      EXPECT_NE(r.err.find("the workspace fits int indices"), std::string::npos) << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
}

// ---- files that are not models, and the fuzzers' regression inputs ------------------------------

TEST(CorruptCorpus, FilesThatAreNotModelsAreRefused) {
  const CountRuns count;
  const std::vector<Case<std::string>> cases = {
      {"empty.h5", "", {"empty"}},
      {"text.h5", "hello\n", {"text file"}},
      {"png.h5", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), {"not an HDF5 file"}},
      {"json.h5", R"({"a": 1})", {}},
      {"zip-empty.keras", std::string("PK\x05\x06", 4) + std::string(18, '\0'), {}},
      {"hdf5-signature-only.h5", std::string("\x89HDF\r\n\x1a\n", 8), {}},
      {"hdf5-signature-zeros.h5", std::string("\x89HDF\r\n\x1a\n", 8) + std::string(4096, '\0'), {}},
  };
  refuse_all("file-", cases, [](const std::string& dir, const Case<std::string>& c) {
    write_file(dir + "/" + c.name, c.make);
    return dir + "/" + c.name;
  });
  const std::string dir = case_dir("file-missing");
  expect_file_refused(dir, dir + "/none.h5", {"file not found"});
  fs::create_directory(dir + "/model.h5");
  expect_file_refused(dir, dir + "/model.h5", {"directory"});
}

TEST(CorruptCorpus, ArchitectureJsonWithBadWeightsIsRefused) {
  const CountRuns count;
  const std::string dir = case_dir("architecture");
  const std::string weights = source_dir() + "/tests/fixtures/k3/weights_only.weights.h5";
  write_file(dir + "/deep.json", std::string(30000, '[') + std::string(30000, ']'));
  expect_file_refused(dir, dir + "/deep.json", {"more than 1000 deep"}, {"--weights", weights});
  write_file(dir + "/cut.json", "{\"class_name\": \"Sequential\", ");
  expect_file_refused(dir, dir + "/cut.json", {"not valid JSON", "ends too early"}, {"--weights", weights});
  write_file(dir + "/other.json", model_config_of(std::string(kSequential) + ".h5"));
  const Outcome r = run_kc2cpp({dir + "/other.json", "--weights", weights, "-o", dir + "/out/m.cpp"}, dir + "/run");
  expect_refused(r, weights, {}, dir + "/out", {});  // the weights of another model
  ++g_cases;
}

// Refused, or compiled (a config that is odd but harmless, e.g. a layer name that is a number). A file
// on which libhdf5 loops forever ("*endless_loop*") is stopped by the loader's 30 s timeout.
TEST(CorruptCorpus, FuzzRegressionInputsAreRefusedOrCompiled) {
  const CountRuns count;
  const std::string regressions = source_dir() + "/tests/fuzz/regressions/file";
  std::vector<std::string> files = list_dir(regressions);
  ASSERT_GE(files.size(), 10u);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const std::string dir = case_dir("regression-" + name);
    fs::copy_file(regressions + "/" + name, dir + "/" + name);
    // make_regressions.py's FILE_CASES: data stored elsewhere or listed again must be refused
    const std::map<std::string, std::vector<std::string>> refused = {
        {"external_storage_etc_passwd.h5", {"refused", "external storage", "/etc/passwd"}},
        {"virtual_dataset.h5", {"refused", "virtual dataset"}},
        {"weight_listed_1000_times.h5", {"listed more than once"}}};
    if (auto it = refused.find(name); it != refused.end()) {
      expect_file_refused(dir, dir + "/" + name, it->second);
      continue;
    }
    if (name.find("endless_loop") == std::string::npos) {
      expect_refused_or_compiled(dir, dir + "/" + name);
      continue;
    }
    fs::create_directories(dir + "/out");
    const Outcome r = run_kc2cpp({dir + "/" + name, "-o", dir + "/out/m.cpp"}, dir + "/run", {0, nullptr, 60});
    expect_refused(r, dir + "/" + name, {"did not finish reading this file within 30 s", "damaged"}, dir + "/out", {}, 35);
    ++g_cases;
  }
}

// The typed accessors name the key through the real CLI: exit 1, the file, the layer and the key.
TEST(CorruptCorpus, ConfigValuesOfTheWrongTypeNameLayerAndKey) {
  const CountRuns count;
  run_config_cases("tests/fixtures/k3/attn_concat.h5", {
      {"score-mode-number", [](json& c) { layer(c, 2)["config"]["score_mode"] = 5; },
       {"layer 'concat_scaled' (Attention)", "config 'score_mode' is not a string"}},
      {"use-scale-string", [](json& c) { layer(c, 2)["config"]["use_scale"] = "yes"; },
       {"layer 'concat_scaled' (Attention)", "config 'use_scale' is not a boolean"}},
  });
  run_config_cases("tests/fixtures/k3/conv2d_transpose.h5", {
      {"output-padding-length", [](json& c) { layer(c, 1)["config"]["output_padding"] = {1, 1, 1}; },
       {"layer 'conv2d_transpose' (Conv2DTranspose)", "config 'output_padding' = [1,1,1] is not 2 integer(s)"}},
      {"output-padding-string", [](json& c) { layer(c, 1)["config"]["output_padding"] = {"1", 1}; },
       {"layer 'conv2d_transpose' (Conv2DTranspose)", "config 'output_padding' = \"1\" is not an integer"}},
      {"strides-missing-kernel", [](json& c) { layer(c, 2)["config"].erase("kernel_size"); },
       {"layer 'conv2d_transpose_1' (Conv2DTranspose)", "config has no 'kernel_size'"}},
  });
}

// ---- every config key, mistyped or missing ----------------------------------------------------

// The JSON pointers of every layer entry of `models_at` (a model's "config"), nested models included.
void layer_entries(const json& root, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  const json& cfg = root[at];
  if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array()) return;
  for (size_t i = 0; i < cfg["layers"].size(); ++i) {
    const json::json_pointer entry = at / "layers" / i;
    out.push_back(entry);
    if (root[entry].contains("config")) layer_entries(root, entry / "config", out);
  }
}

// Issue 16: every key of every layer entry, layer config and wrapped layer (and its config) of every
// fixture, set to each wrong type and removed: lowering gives a kc2cpp::Error (or accepts a key it does
// not read), never another exception ("internal error") nor an unchecked JSON access
// (lower::kUncheckedConfigAccess).
// In process: tens of thousands of cases; the CLI cases above check exit codes, messages and files.
TEST(CorruptCorpus, EveryConfigKeyMistypedOrMissingIsAnError) {
  const std::vector<json> wrong = {"x", json::object(), json::array({"x", 2}), true, -1.5};
  int runs = 0;
  std::vector<std::string> findings;
  for (const Fixture& f : fixtures()) {
    load::KerasModel m = load::load_model(f.h5());
    std::vector<json::json_pointer> entries;
    layer_entries(m.config, json::json_pointer("/config"), entries);
    const auto attempt = [&](const std::string& what) {
      ++runs;
      try {
        lower::lower(m);
      } catch (const Error& e) {
        if (std::strstr(e.what(), lower::kUncheckedConfigAccess) != nullptr) findings.push_back(what + ": " + e.what());
      } catch (const std::exception& e) {
        findings.push_back(what + ": not a kc2cpp::Error: " + e.what());
      }
    };
    for (const json::json_pointer& entry : entries) {
      // the entry, its config, and the layers it wraps (Bidirectional, TimeDistributed, RNN cells)
      std::vector<json::json_pointer> objects = {entry, entry / "config"};
      if (m.config[entry / "config"].is_object())
        for (auto it = m.config[entry / "config"].begin(); it != m.config[entry / "config"].end(); ++it)
          if (it->is_object() && it->contains("config") && (*it)["config"].is_object())
            objects.insert(objects.end(), {entry / "config" / it.key(), entry / "config" / it.key() / "config"});
      for (const json::json_pointer& obj : objects) {
        if (!m.config[obj].is_object()) continue;
        std::vector<std::string> keys;
        for (auto it = m.config[obj].begin(); it != m.config[obj].end(); ++it) keys.push_back(it.key());
        for (const std::string& key : keys) {
          const json saved = m.config[obj][key];
          for (const json& w : wrong) {
            m.config[obj][key] = w;
            attempt(f.id + " " + obj.to_string() + "/" + key + " = " + w.dump());
          }
          m.config[obj].erase(key);
          attempt(f.id + " " + obj.to_string() + "/" + key + " removed");
          m.config[obj][key] = saved;
        }
      }
    }
  }
  std::printf("[ corrupt  ] %d mistyped or missing config keys lowered in process\n", runs);
  EXPECT_GT(runs, 1000);
  for (size_t i = 0; i < findings.size() && i < 30; ++i) ADD_FAILURE() << findings[i];
  EXPECT_EQ(findings.size(), 0u);
}

// ---- usage errors: exit 2, nothing written ----------------------------------------------------

TEST(CorruptCorpus, UsageErrorsExitTwo) {
  const CountRuns count;
  const std::string dir = case_dir("usage");
  const std::string model = copy_model(dir);
  fs::create_directory(dir + "/out");
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"--no-such-option", model},
      {model, "-o"},
      {model, "-o", dir + "/out/m.cpp", "--fp", "sloppy"},
      {model, "-o", dir + "/out/m.cpp", "--max-memory", "-1"},
      {model, "-o", dir + "/out/m.cpp", "--max-memory", "lots"},
      {model, model, "-o", dir + "/out/m.cpp"},
      {"inspect"},
      {"eval", model, "--input", dir + "/x.npy"},
      {"frobnicate", model},
  };
  for (const std::vector<std::string>& args : cases) {
    SCOPED_TRACE(joined(args));
    const Outcome r = run_kc2cpp(args, dir + "/run");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err, "");
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_LT(r.seconds, kMaxSeconds);
    EXPECT_EQ(joined(tree(dir + "/out")), "[]");
    ++g_cases;
  }
}

}  // namespace
}  // namespace kc2cpp::e2e
