// kc2cpp eval and check on data files: HDF5 datasets and .npy files of any integer or float type,
// read in chunks, converted as Keras converts them, against the reference evaluator run in this
// process on inputs numpy computed (the fixture generator's /scaled/image_f64 = image / 255) and
// against Keras's own outputs (/keras). Data: tests/fixtures/k3/mnist_hdf5matrix.data.h5 (h5py,
// see fixtures_conv.py); the file larger than one chunk is made here with libhdf5.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "data/data.h"
#include "driver/driver.h"
#include "e2e_util.h"
#include "error.h"
#include "eval/eval.h"
#include "load/hdf5.h"
#include "load/keras_model.h"
#include "load/npy.h"

namespace kc2cpp::e2e {
namespace {

const std::string kMnist = "k3/mnist_hdf5matrix";

std::string mnist(const std::string& suffix) { return source_dir() + "/tests/fixtures/" + kMnist + suffix; }
std::string data_h5() { return mnist(".data.h5"); }

std::string case_dir(const std::string& name) {
  const std::string dir = work_dir() + "/data/" + name;
  make_clean_dir(dir);
  return dir;
}

// A dataset of an HDF5 file as float32, read by the model loader's reader (not eval's).
Array read_h5(const std::string& file, const std::string& dataset) {
  struct stat st {};
  ::stat(file.c_str(), &st);
  const load::h5::File f = load::h5::File::open(file, static_cast<uint64_t>(st.st_size));
  load::h5::Array a = load::h5::read_dataset(f, f.root(), dataset);
  return {a.shape, std::move(a.data)};
}

// The reference evaluator in this process.
Array evaluate(const std::string& model, const Array& x) {
  const ir::Graph g = driver::compile_graph(load::load_model(model), ir::FpMode::Unfused);
  const int n = static_cast<int>(x.shape.at(0));
  Array y;
  y.shape = {n};
  for (int64_t d : g.tensors[g.outputs[0]].shape) y.shape.push_back(d);
  y.data = eval::evaluate(g, {x.data}, n)[0];
  return y;
}

Array rows(const Array& a, int64_t begin, int64_t end) {
  const size_t per = a.data.size() / static_cast<size_t>(a.shape.at(0));
  Array out{a.shape, {a.data.begin() + begin * per, a.data.begin() + end * per}};
  out.shape[0] = end - begin;
  return out;
}

int64_t argmax(const float* y, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (y[i] > y[best]) best = i;
  return best;
}

RunResult kc2cpp(const std::vector<std::string>& args) {
  std::vector<std::string> cmd = {kc2cpp_bin()};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run(cmd);
}

// What numpy computed for the model: image / 255 in float64, rounded to float32 (with the channel axis).
const Array& mnist_input() {
  static const Array x = read_h5(data_h5(), "scaled/image_f64");
  return x;
}
const Array& mnist_reference() {
  static const Array y = evaluate(mnist(".h5"), mnist_input());
  return y;
}

// ---- eval -------------------------------------------------------------------------------------

TEST(DataEval, EveryLayoutAndTypeGivesTheReferenceBits) {
  const std::string dir = case_dir("layouts");
  const Array& want = mnist_reference();
  struct Case {
    std::string what;
    std::vector<std::string> args;
    std::string output, dataset;  // dataset empty: .npy
    bool note;                    // a trailing channel axis is added (the one-line note)
  };
  const std::vector<Case> cases = {
      {"uint8 (N, 28, 28) in HDF5 -> HDF5", {"--input", data_h5() + ":/image", "--scale", "1/255"}, dir + "/a.h5", "/pred/y", true},
      {"uint8 (N, 28, 28, 1) in HDF5", {"--input", data_h5() + ":/image_channels", "--scale", "1/255"}, dir + "/b.npy", "", false},
      {"float64 (N, 28, 28, 1) in HDF5", {"--input", data_h5() + ":/scaled/image_f64"}, dir + "/c.npy", "", false},
      {"uint8 (N, 28, 28) .npy", {"--input", mnist(".data.image.npy"), "--scale", "1/255"}, dir + "/d.npy", "", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<std::string> args = {"eval", mnist(".h5")};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--output", c.dataset.empty() ? c.output : c.output + ":" + c.dataset});
    const RunResult r = kc2cpp(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Array got = c.dataset.empty() ? read_npy(c.output) : read_h5(c.output, c.dataset);
    ASSERT_EQ(got.shape, want.shape);
    EXPECT_EQ(compare_bits(got.data, want.data, c.what), "");
    const bool noted = r.err.find("kc2cpp: note: ") == 0 && r.err.find("(24, 28, 28) read as (24, 28, 28, 1)") != std::string::npos;
    EXPECT_EQ(noted, c.note) << r.err;
    if (!c.note) {
      EXPECT_EQ(r.err, "");
    }
    EXPECT_LE(worst_epsilons(got, read_h5(data_h5(), "keras")), 100.0);
  }
  std::printf("[ data     ] 4 layouts and types of the same images give the reference evaluator's bits\n");
}

TEST(DataEval, StartEndSlice) {
  const std::string dir = case_dir("slice");
  const RunResult r = kc2cpp({"eval", mnist(".h5"), "--input", data_h5() + ":/scaled/image_f64", "--start", "5",
                              "--end", "13", "--output", dir + "/y.npy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array got = read_npy(dir + "/y.npy");
  EXPECT_EQ(got.shape, (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(compare_bits(got.data, rows(mnist_reference(), 5, 13).data, "rows 5..13"), "");
}

// A dataset of several chunks (eval reads 2^20 input values at a time), made here: the output is
// the reference evaluator's on the same values, and a slice across a chunk boundary too.
TEST(DataEval, FileLargerThanOneChunk) {
  const Fixture* f = find_fixture("k3/dense_relu_softmax");
  if (f == nullptr) GTEST_SKIP() << "SKIPPED: k3/dense_relu_softmax not selected";
  const std::string dir = case_dir("big");
  const ir::Graph g = driver::compile_graph(load::load_model(f->h5()), ir::FpMode::Unfused);
  const int64_t width = ir::num_elements(g.tensors[g.inputs[0]].shape);
  const int64_t n = 2 * ((int64_t{1} << 20) / width) + 7;
  Array x{{n, width}, std::vector<float>(static_cast<size_t>(n * width))};
  std::mt19937 rng(14);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (float& v : x.data) v = normal(rng);
  {  // gzip-compressed, chunked as h5py writes big datasets
    const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(width)}, chunk[2] = {4096, dims[1]};
    const hid_t file = H5Fcreate((dir + "/big.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 1);
    const hid_t dset = H5Dcreate2(file, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data.data()), 0);
    H5Dclose(dset), H5Pclose(dcpl), H5Sclose(space), H5Fclose(file);
  }
  const Array want{{n, 5}, eval::evaluate(g, {x.data}, static_cast<int>(n))[0]};
  RunResult r = kc2cpp({"eval", f->h5(), "--input", dir + "/big.h5:/x", "--output", dir + "/y.npy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(compare_bits(read_npy(dir + "/y.npy").data, want.data, "all rows"), "");
  const int64_t mid = (int64_t{1} << 20) / width;  // the first chunk's end
  r = kc2cpp({"eval", f->h5(), "--input", dir + "/big.h5:/x", "--start", std::to_string(mid - 3), "--end",
              std::to_string(n - 1), "--output", dir + "/s.npy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(compare_bits(read_npy(dir + "/s.npy").data, rows(want, mid - 3, n - 1).data, "slice across chunks"), "");
  std::printf("[ data     ] %lld rows of %lld values (3 chunks): the reference evaluator's bits\n",
              static_cast<long long>(n), static_cast<long long>(width));
}

// ---- check ------------------------------------------------------------------------------------

struct Counts {
  int64_t correct = 0, agree = 0;
};
Counts expected_counts(int64_t begin, int64_t end) {
  const Array& y = mnist_reference();
  const Array labels = read_h5(data_h5(), "label"), keras = read_h5(data_h5(), "keras");
  Counts c;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t ours = argmax(&y.data[i * 10], 10);
    c.correct += ours == static_cast<int64_t>(labels.data[i]);
    c.agree += ours == argmax(&keras.data[i * 10], 10);
  }
  return c;
}

std::string fraction(int64_t part, int64_t whole) {
  return "(" + std::to_string(part) + "/" + std::to_string(whole) + ")";
}

TEST(DataCheck, AccuracyAgreementAndBound) {
  for (const auto& [begin, end] : {std::pair<int64_t, int64_t>{0, 24}, {3, 17}}) {
    // Keras's outputs from the HDF5 file, or (with the slice) from the .npy file of the same numbers.
    const std::string keras = begin == 0 ? data_h5() + ":/keras" : mnist(".data.keras.npy");
    std::vector<std::string> args = {"check", mnist(".h5"), "--input", data_h5() + ":/image", "--scale", "1/255",
                                     "--labels", data_h5() + ":/label", "--keras", keras};
    if (begin != 0) args.insert(args.end(), {"--start", std::to_string(begin), "--end", std::to_string(end)});
    const RunResult r = kc2cpp(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Counts c = expected_counts(begin, end);
    const int64_t n = end - begin;
    EXPECT_LT(c.correct, n) << "the labels must disagree somewhere (every 4th is shifted)";
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one summary line:\n" << r.out;
    EXPECT_NE(r.out.find(std::to_string(n) + " samples"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("accuracy"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fraction(c.correct, n)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("agreement with Keras"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fraction(c.agree, n)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(bound 100)"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress bar when stderr is not a terminal";
    std::printf("[ data     ] check [%lld:%lld]: %s", static_cast<long long>(begin), static_cast<long long>(end),
                r.out.c_str());
  }
}

// The classic mistake: the model was trained on x / 255 and the data is passed unscaled.
TEST(DataCheck, BeyondTheBoundExitsOne) {
  const RunResult r = kc2cpp({"check", mnist(".h5"), "--input", data_h5() + ":/image", "--keras", data_h5() + ":/keras"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("BEYOND THE BOUND"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("kc2cpp: error: " + mnist(".h5") + ": sample "), std::string::npos) << r.err;
}

// check --native: the generated code built for this machine gives the evaluator's bits; a compiler
// that fails is reported and leaves no temporary folder.
TEST(DataCheck, NativeBuildHasTheEvaluatorsBits) {
  const Fixture* f = find_fixture("k3/dense_relu_softmax");
  if (f == nullptr) GTEST_SKIP() << "SKIPPED: k3/dense_relu_softmax not selected";
  if (!have_program("c++")) GTEST_SKIP() << "SKIPPED: no c++ on the PATH";
  const auto temporaries = [] {
    size_t n = 0;
    for (const std::string& name : list_dir("/tmp")) n += name.rfind("kc2cpp-check-", 0) == 0;
    return n;
  };
  const size_t before = temporaries();
  const RunResult r = kc2cpp({"check", f->h5(), "--input", f->input(0), "--keras", f->keras_output(0), "--native"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("generated code (c++ -O2 -march=native, ISA path "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bit-identical to the evaluator"), std::string::npos) << r.out;
  std::printf("[ data     ] %s", r.out.c_str());
  const RunResult bad = run({"env", "CXX=false", kc2cpp_bin(), "check", f->h5(), "--input", f->input(0), "--native"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("--native: 'false' could not build the generated code"), std::string::npos) << bad.err;
  EXPECT_LE(temporaries(), before) << "a kc2cpp-check-* folder was left in /tmp";
}

// A model with two inputs and three outputs: two outputs as datasets of one HDF5 file, one .npy;
// each the committed golden (the reference evaluator's bits).
TEST(DataEval, SeveralOutputsInOneHdf5File) {
  const Fixture* f = find_fixture("k3/graph_multi_io");
  if (f == nullptr) GTEST_SKIP() << "SKIPPED: k3/graph_multi_io not selected";
  const std::string dir = case_dir("multi-io");
  const RunResult r = kc2cpp({"eval", f->h5(), "--input", f->input(0), "--input", f->input(1), "--output",
                              dir + "/y.h5:/first", "--output", dir + "/y.npy", "--output", dir + "/y.h5:/more/third"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"y.h5", "y.npy"}));
  EXPECT_EQ(compare_bits(read_h5(dir + "/y.h5", "first").data, read_npy(f->golden_output(0)).data, "output 0"), "");
  EXPECT_EQ(compare_bits(read_npy(dir + "/y.npy").data, read_npy(f->golden_output(1)).data, "output 1"), "");
  EXPECT_EQ(compare_bits(read_h5(dir + "/y.h5", "more/third").data, read_npy(f->golden_output(2)).data, "output 2"), "");
  const RunResult twice = kc2cpp({"eval", f->h5(), "--input", f->input(0), "--input", f->input(1), "--output",
                                  dir + "/z.h5:/y", "--output", dir + "/z.npy", "--output", dir + "/z.h5:/y"});
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
  EXPECT_NE(twice.err.find("z.h5:/y: given for two model outputs"), std::string::npos) << twice.err;
  EXPECT_FALSE(file_exists(dir + "/z.h5") || file_exists(dir + "/z.npy"));
}

// float32 data with --scale: float32 arithmetic, as numpy computes x * 0.1 / 3 on a float32 array
// (the fixture generator checks that float64 arithmetic would give other bits).
TEST(DataEval, Float32DataScaledInFloat32) {
  const std::string dir = case_dir("f32");
  const RunResult r = kc2cpp({"eval", mnist(".h5"), "--input", data_h5() + ":/image_f32", "--scale", "0.1/3", "--output",
                              dir + "/y.npy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Array want = evaluate(mnist(".h5"), read_h5(data_h5(), "scaled/image_f32"));
  EXPECT_EQ(compare_bits(read_npy(dir + "/y.npy").data, want.data, "float32 * 0.1 / 3"), "");
}

// Streaming: checking a file of a million samples (20 MB of uint8, 80 MB as float32) takes about
// as much memory as checking 24 (the chunks are 4 MiB of float32); peak RSS by /usr/bin/time.
TEST(DataCheck, BigFileIsStreamed) {
  const Fixture* f = find_fixture("k3/dense_relu_softmax");
  if (f == nullptr) GTEST_SKIP() << "SKIPPED: k3/dense_relu_softmax not selected";
  if (!have_program("/usr/bin/time")) GTEST_SKIP() << "SKIPPED: /usr/bin/time is not installed";
  const std::string dir = case_dir("rss");
  const int64_t width = 20, n = 1000000;
  {
    std::vector<uint8_t> x(static_cast<size_t>(n * width));
    std::mt19937 rng(60000);
    for (uint8_t& v : x) v = static_cast<uint8_t>(rng() & 0xff);
    const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(width)};
    const hid_t file = H5Fcreate((dir + "/big.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dset = H5Dcreate2(file, "/x", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Dwrite(dset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data()), 0);
    H5Dclose(dset), H5Sclose(space), H5Fclose(file);
  }
  const auto peak_kib = [&](const std::string& input) {
    const RunResult r = run({"/usr/bin/time", "-f", "peak %M", kc2cpp_bin(), "check", f->h5(), "--input", input,
                             "--scale", "1/255"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t at = r.err.rfind("peak ");
    return at == std::string::npos ? int64_t{-1} : std::stoll(r.err.substr(at + 5));
  };
  const int64_t small = peak_kib(f->input(0)), big = peak_kib(dir + "/big.h5:/x");
  ASSERT_GT(small, 0);
  std::printf("[ data     ] peak RSS: %lld KiB for 20 samples, %lld KiB for %lld samples (%lld KiB as float32)\n",
              static_cast<long long>(small), static_cast<long long>(big), static_cast<long long>(n),
              static_cast<long long>(n * width * 4 / 1024));
  EXPECT_LT(big - small, n * width * 4 / 1024 / 4) << "the data must not be held whole";
}

// ---- refusals ---------------------------------------------------------------------------------

struct Refusal {
  std::string what;
  std::vector<std::string> args;      // after "eval <model>"
  int exit_code;                      // 1: bad data; 2: usage
  std::vector<std::string> mentions;  // in stderr
};

TEST(DataErrors, NameTheFileAndLeaveNoOutput) {
  const std::string dir = case_dir("errors");
  write_file(dir + "/notes.txt", "not data\n");
  write_file(dir + "/cut.h5", read_file(data_h5()).substr(0, 3000));
  const std::string out = dir + "/out";
  const std::string h5 = data_h5();
  const std::string npy_f1 = source_dir() + "/tests/fuzz/regressions/data/npy_descr_f1.npy";  // found by fuzz_data
  const std::vector<Refusal> cases = {
      {"no such dataset", {"--input", h5 + ":/images"}, 1, {h5 + ":/images", "no dataset '/images'", "/image, "}},
      {"labels as images", {"--input", h5 + ":/label"}, 1, {h5 + ":/label", "do not fit input 0", "(28, 28, 1)"}},
      {"text file", {"--input", dir + "/notes.txt"}, 1, {dir + "/notes.txt", "neither an HDF5 file nor a NumPy"}},
      {"1-byte float .npy", {"--input", npy_f1}, 1, {npy_f1, "dtype '<f1' is not supported"}},
      {"truncated HDF5", {"--input", dir + "/cut.h5:/image"}, 1, {dir + "/cut.h5"}},
      {"missing file", {"--input", dir + "/none.h5:/image"}, 1, {dir + "/none.h5", "cannot open"}},
      {"end beyond the data", {"--input", h5 + ":/image", "--end", "25"}, 1, {h5 + ":/image", "has 24 samples"}},
      {"HDF5 file without a dataset", {"--input", h5}, 2, {"name the dataset", "/image, /image_channels, /image_f32, /keras, /label", "--help"}},
      {"malformed --scale", {"--input", h5 + ":/image", "--scale", "1/x"}, 2, {"--scale '1/x' is not a number", "--help"}},
      {"output HDF5 without a dataset", {"--input", h5 + ":/image", "--output", out + "/y.h5"}, 2, {"name the dataset", "--help"}},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.what);
    make_clean_dir(out);
    std::vector<std::string> args = {"eval", mnist(".h5")};
    args.insert(args.end(), c.args.begin(), c.args.end());
    if (std::find(c.args.begin(), c.args.end(), "--output") == c.args.end()) args.insert(args.end(), {"--output", out + "/y.npy"});
    const RunResult r = kc2cpp(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find("kc2cpp: error: "), std::string::npos) << r.err;
    for (const std::string& m : c.mentions) EXPECT_NE(r.err.find(m), std::string::npos) << "must mention '" << m << "':\n" << r.err;
    EXPECT_TRUE(list_dir(out).empty()) << "left behind: " << list_dir(out).front();
    std::printf("[ data     ] %-30s exit %d: %s", c.what.c_str(), r.exit_code,
                r.err.substr(r.err.find("kc2cpp: error: ")).c_str());
  }
}

// A file <dir>/<name> holding dataset /x of float32 zeros of `dims`, made by `make` (given the dataset
// creation property list to set storage on, the file and the space); h5py-equivalent calls of libhdf5.
std::string crafted_h5(const std::string& dir, const std::string& name, const std::vector<hsize_t>& dims,
                       const std::function<void(hid_t dcpl, hid_t file, hid_t space)>& make) {
  const std::string path = dir + "/" + name;
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  make(dcpl, file, space);
  H5Pclose(dcpl), H5Sclose(space), H5Fclose(file);
  return path;
}

void create_x(hid_t file, hid_t space, hid_t dcpl, bool write) {
  const hid_t d = H5Dcreate2(file, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  if (write) {
    std::vector<float> zeros(static_cast<size_t>(H5Sget_simple_extent_npoints(space)), 0.0f);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), 0);
  }
  H5Dclose(d);
}

// Issue 14: a crafted HDF5 data file, as --input, --labels or --keras, gives exit 1 and an error naming
// the file and dataset, never a crash, a hang or a read of another file; nothing is written.
TEST(DataErrors, HostileHdf5DataFilesAreRefused) {
  const std::string dir = case_dir("hostile");
  const std::vector<hsize_t> dims = {24, 28, 28, 1};
  const size_t bytes = 24 * 28 * 28 * 4;
  write_file(dir + "/secret.bin", std::string(bytes, '\x42'));
  const std::string external = crafted_h5(dir, "external.h5", dims, [&](hid_t dcpl, hid_t file, hid_t space) {
    ASSERT_GE(H5Pset_external(dcpl, (dir + "/secret.bin").c_str(), 0, bytes), 0);
    create_x(file, space, dcpl, false);
  });
  const std::string virt = crafted_h5(dir, "virtual.h5", dims, [&](hid_t dcpl, hid_t file, hid_t space) {
    ASSERT_GE(H5Pset_virtual(dcpl, space, (dir + "/other.h5").c_str(), "/x", space), 0);
    create_x(file, space, dcpl, false);
  });
  const std::string link = crafted_h5(dir, "link.h5", dims, [&](hid_t, hid_t file, hid_t) {
    ASSERT_GE(H5Lcreate_external((dir + "/other.h5").c_str(), "/x", file, "x", H5P_DEFAULT, H5P_DEFAULT), 0);
  });
  const std::vector<hsize_t> huge = {hsize_t{1} << 30, 28, 28, 1};
  const std::string empty = crafted_h5(dir, "huge.h5", huge, [&](hid_t dcpl, hid_t file, hid_t space) {
    const hsize_t chunk[4] = {1, 28, 28, 1};
    ASSERT_GE(H5Pset_chunk(dcpl, 4, chunk), 0);
    create_x(file, space, dcpl, false);  // 2^30 samples claimed, none stored
  });
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  const std::string out = dir + "/out";
  const std::string h5 = data_h5();
  const std::vector<Refusal> cases = {
      {"external storage", {"--input", external + ":/x"}, 1, {external + ":/x", "external storage", "secret.bin"}},
      {"virtual dataset", {"--input", virt + ":/x"}, 1, {virt + ":/x", "virtual dataset"}},
      {"external link", {"--input", link + ":/x"}, 1, {link + ":/x", "external link", "other.h5"}},
      {"2^30 samples, none stored", {"--input", empty + ":/x"}, 1, {empty + ":/x", "stores only 0 bytes"}},
      {"FIFO", {"--input", dir + "/fifo"}, 1, {dir + "/fifo", "FIFO", "not a regular file"}},
      {"labels in external storage", {"--input", h5 + ":/image", "--labels", external + ":/x"}, 1, {external + ":/x", "external storage"}},
      {"keras outputs virtual", {"--input", h5 + ":/image", "--keras", virt + ":/x"}, 1, {virt + ":/x", "virtual dataset"}},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.what);
    make_clean_dir(out);
    const bool check = std::find_if(c.args.begin(), c.args.end(), [](const std::string& a) {
                         return a == "--labels" || a == "--keras";
                       }) != c.args.end();
    std::vector<std::string> args = {check ? "check" : "eval", mnist(".h5")};
    args.insert(args.end(), c.args.begin(), c.args.end());
    if (!check) args.insert(args.end(), {"--output", out + "/y.npy"});
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult r = kc2cpp(args);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find("kc2cpp: error: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    for (const std::string& m : c.mentions) EXPECT_NE(r.err.find(m), std::string::npos) << "must mention '" << m << "':\n" << r.err;
    EXPECT_TRUE(list_dir(out).empty()) << "left behind: " << list_dir(out).front();
  }
}

// fuzz_data's regression inputs (tests/fuzz/regressions/data, make_regressions.py) through eval: each
// is refused naming the file (the hostile ones when opened, the others for their shape: the model takes
// 3 values per sample), or read (float32.h5, 4 samples of 3).
TEST(DataErrors, FuzzRegressionInputsAreRefusedOrRead) {
  const std::string dir = case_dir("regressions");
  const std::string regressions = source_dir() + "/tests/fuzz/regressions/data";
  const std::vector<std::string> files = list_dir(regressions);
  ASSERT_GE(files.size(), 8u);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const bool h5 = name.size() > 3 && name.substr(name.size() - 3) == ".h5";
    const std::string arg = regressions + "/" + name + (h5 ? ":/x" : "");
    const RunResult r = kc2cpp({"eval", source_dir() + "/tests/fixtures/k3/summary_walkthrough.h5", "--input", arg,
                                "--output", dir + "/y.npy"});
    EXPECT_EQ(r.exit_code, name == "float32.h5" ? 0 : 1) << r.err;  // (4, 3) float32 fits the model's (3,)
    if (r.exit_code != 0) {
      EXPECT_NE(r.err.find("kc2cpp: error: " + regressions + "/" + name), std::string::npos) << r.err;
    }
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    std::remove((dir + "/y.npy").c_str());
  }
}

// The reading child's memory limit (--max-memory, else KC2CPP_MAX_MEMORY) stops a data file with an
// error saying how to raise it, not a crash. In process (the same child as the command line's): on the
// command line the model's loader, forked from the same process, meets such a limit first.
TEST(DataErrors, Hdf5DataReaderMeetsTheMemoryLimit) {
  const std::string arg = data_h5() + ":/image";
  try {
    data::Source::open(arg, uint64_t{10} << 20);
    ADD_FAILURE() << "a 10 MiB limit was not met";
  } catch (const Error& e) {
    const std::string m = e.what();
    const std::vector<std::string> wants = {arg + ": reading the file asks for more than 0.01 GB of memory",
                                            "--max-memory <GB>", "KC2CPP_MAX_MEMORY=<GB>"};
    for (const std::string& want : wants)
      EXPECT_NE(m.find(want), std::string::npos) << "must mention '" << want << "':\n" << m;
  }
  EXPECT_EQ(data::Source::open(arg, uint64_t{1} << 30)->rows(), 24);  // within 1 GiB it opens
}

// Bit flips anywhere in an HDF5 data file: each run reads the data (exit 0) or gives an error naming the
// file (exit 1); never a crash, a hang or an internal error. Seeded: the same flips on every run.
TEST(DataErrors, BitFlippedHdf5DataFilesAreReadOrRefused) {
  const std::string dir = case_dir("flips");
  // /image alone, in gzip-compressed chunks of 4 samples: most flips hit its structure or its chunks
  const Array image = read_h5(data_h5(), "image");
  const std::string small = crafted_h5(dir, "small.h5", {24, 28, 28}, [&](hid_t dcpl, hid_t file, hid_t space) {
    const hsize_t chunk[3] = {4, 28, 28};
    ASSERT_GE(H5Pset_chunk(dcpl, 3, chunk), 0);
    ASSERT_GE(H5Pset_shuffle(dcpl), 0);
    ASSERT_GE(H5Pset_deflate(dcpl, 4), 0);
    const hid_t d = H5Dcreate2(file, "/image", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, image.data.data()), 0);
    H5Dclose(d);
  });
  const std::string original = read_file(small);
  std::mt19937 rng(14);
  int refused = 0;
  for (int i = 0; i < 80; ++i) {
    std::string bytes = original;
    const size_t at = rng() % bytes.size();
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
    write_file(dir + "/flip.h5", bytes);
    make_clean_dir(dir + "/out");
    const RunResult r = kc2cpp({"eval", mnist(".h5"), "--input", dir + "/flip.h5:/image", "--output", dir + "/out/y.npy"});
    SCOPED_TRACE("byte " + std::to_string(at));
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << ": " << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    if (r.exit_code == 1) {
      ++refused;
      EXPECT_NE(r.err.find(dir + "/flip.h5"), std::string::npos) << r.err;
      EXPECT_TRUE(list_dir(dir + "/out").empty());
    }
  }
  std::printf("[ data     ] 80 bit flips: %d refused, %d read\n", refused, 80 - refused);
}

// .npy files of other types and byte orders holding the same values give the same bits.
TEST(DataEval, NpyTypesAndByteOrders) {
  const std::string dir = case_dir("npy-types");
  const Fixture* f = find_fixture("k3/dense_relu_softmax");
  if (f == nullptr) GTEST_SKIP() << "SKIPPED: k3/dense_relu_softmax not selected";
  const ir::Graph g = driver::compile_graph(load::load_model(f->h5()), ir::FpMode::Unfused);
  const int64_t width = ir::num_elements(g.tensors[g.inputs[0]].shape), n = 9;
  std::vector<int16_t> values(static_cast<size_t>(n * width));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int16_t>(static_cast<int>(i * 37 % 201) - 100);
  // The same integers as '<f4' (the reference), '>i2', '|i1' and '<f8'.
  const auto save = [&](const std::string& name, const std::string& descr, size_t width_bytes, auto encode) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(n) + ", " +
                         std::to_string(width) + "), }";
    header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) + char(header.size() >> 8) + header;
    for (int16_t v : values) {
      std::string e(width_bytes, '\0');
      encode(v, e.data());
      bytes += e;
    }
    write_file(dir + "/" + name, bytes);
  };
  save("f4.npy", "<f4", 4, [](int16_t v, char* p) { const float f = v; std::memcpy(p, &f, 4); });
  save("i2be.npy", ">i2", 2, [](int16_t v, char* p) { p[0] = char(uint16_t(v) >> 8), p[1] = char(uint16_t(v) & 0xff); });
  save("i1.npy", "|i1", 1, [](int16_t v, char* p) { p[0] = static_cast<char>(static_cast<int8_t>(v)); });
  save("f8.npy", "<f8", 8, [](int16_t v, char* p) { const double d = v; std::memcpy(p, &d, 8); });
  const Array x = read_npy(dir + "/f4.npy");
  const std::vector<float> want = eval::evaluate(g, {x.data}, static_cast<int>(n))[0];
  for (const char* name : {"f4.npy", "i2be.npy", "i1.npy", "f8.npy"}) {
    SCOPED_TRACE(name);
    const RunResult r = kc2cpp({"eval", f->h5(), "--input", dir + "/" + name, "--output", dir + "/y.npy"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(compare_bits(read_npy(dir + "/y.npy").data, want, name), "");
  }
}

}  // namespace
}  // namespace kc2cpp::e2e
