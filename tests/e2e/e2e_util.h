// Helpers shared by the end-to-end tests: fixture discovery, running programs, raw/npy files,
// bit-exact comparison. Nothing here knows about layers or the generated code's internals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kc2cpp::e2e {

// Paths baked in by tests/e2e/CMakeLists.txt.
std::string source_dir();  // the repository root
std::string kc2cpp_bin();  // the kc2cpp executable
std::string work_dir();    // scratch space of the e2e tests, inside the build tree

// A Keras fixture that the compiler must accept: tests/fixtures/k{2,3}/<name>.json with
// <name>.h5 and <name>.keras.y0.npy beside it, and neither "kind": "bad" (files the compiler
// must reject) nor a "weights_file" entry (weights-only saves) in the JSON.
// scripts/update_goldens.sh applies the same rule.
struct Fixture {
  std::string id;    // "k3/summary_walkthrough"
  std::string ns;    // "k3_summary_walkthrough": the C++ namespace / file stem used by the tests
  std::string base;  // absolute path without extension: <src>/tests/fixtures/k3/summary_walkthrough
  std::string h5() const { return base + ".h5"; }
  std::string json() const { return base + ".json"; }
  std::string input(int k) const { return base + ".x" + std::to_string(k) + ".npy"; }
  std::string keras_output(int k) const { return base + ".keras.y" + std::to_string(k) + ".npy"; }
  std::string golden_output(int k) const { return base + ".golden.y" + std::to_string(k) + ".npy"; }
};

// Sorted by id. KC2CPP_E2E_FIXTURES (a comma-separated list of globs on the id, e.g.
// "k3/width_*,k2/act_gelu") narrows the set for quick local runs.
const std::vector<Fixture>& fixtures();
const Fixture* find_fixture(const std::string& id);

// The fixed samples of the matrix and streaming tests: which configurations build a fixture
// depends on a hash of its id only (fnv1a), so adding a fixture does not reshuffle the others.
// KC2CPP_E2E_FULL=1 builds every fixture in every configuration instead.
uint32_t fixture_hash(const Fixture& f);
bool full_matrix();

// An n-dimensional float32 array (shape includes the batch dimension).
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
Array read_npy(const std::string& path);  // via kc2cpp::load::read_npy

// The reference evaluator, in-process: the fixture's stored inputs through the optimised IR.
struct Reference {
  std::vector<Array> inputs;         // x0, x1, ... as stored (float32)
  std::vector<bool> integer_inputs;  // input k is int32_t in the generated API (e.g. Embedding indices)
  std::vector<Array> outputs;        // one per model output, [N, ...]
};
Reference reference(const Fixture& f, ir::FpMode fp);

// The inputs as the generated predict_batch takes them, back to back (input 0 of all samples, then
// input 1, ...): float32, or int32 for integer inputs. Throws std::runtime_error if an integer
// input holds a value that is not an integer in int32 range.
std::string raw_inputs(const Reference& r);

// Result of one program run. stdout/stderr are captured completely.
struct RunResult {
  int exit_code = -1;  // -1: did not exit normally (killed by a signal, could not start)
  std::string out, err;
};
// Runs argv[0] (searched in PATH) with the given arguments, in `cwd` if not empty.
RunResult run(const std::vector<std::string>& argv, const std::string& cwd = "");
std::string command_line(const std::vector<std::string>& argv);  // for messages, shell-quoted

// True if `prog` names an executable file or a program found in PATH.
bool have_program(const std::string& prog);

std::string read_file(const std::string& path);  // throws std::runtime_error if unreadable
void write_file(const std::string& path, const std::string& bytes);
bool file_exists(const std::string& path);
std::vector<std::string> list_dir(const std::string& dir);  // file names, sorted, no "." or ".."
void make_clean_dir(const std::string& dir);                 // rm -rf, then mkdir -p

// Bit-exact comparison, NaN == NaN (any NaN payload equals any other NaN).
// Returns "" when equal, else a message naming the first differing element.
std::string compare_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what);

// The largest per-sample error of `ours` against `keras` ([N, ...] each) in float32 epsilons of the
// sample's largest |keras| value: the README's bound is 100 (tests/e2e/reference_test.cpp).
double worst_epsilons(const Array& ours, const Array& keras);

// "0x3f800000 (1)" for messages.
std::string describe_float(float v);

}  // namespace kc2cpp::e2e
