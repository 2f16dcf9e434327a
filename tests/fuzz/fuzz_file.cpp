// libFuzzer target: the bytes of a model file (.h5, .keras, anything) through the command line's
// whole compile path, driver::generate(): load (in the reading child process, as `kc2cpp model -o
// out.cpp` does) -> lower -> passes -> plan -> emit. Only writing the files is left out (that is
// tests/e2e/hostile_test.cpp's part).
//
// Why the child stays: libhdf5 1.10 crashes, hangs or allocates without bound on damaged files (107
// crashes in the audit of issue 16), and the child is what turns those into clean errors. Loading in
// process would make the fuzzer stop at libhdf5's bugs, which are not kc2cpp's to fix. The price: the
// reading code's coverage (in the child) does not guide the fuzzer; sanitizer reports from the child
// still reach the log (fuzz_util.h). KC2CPP_FUZZ_IN_PROCESS=1 loads in process instead, to hunt bugs
// in kc2cpp's own loader code while accepting that libhdf5's crashes end the run.
#include <hdf5.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "driver/driver.h"
#include "emit/emit.h"
#include "fuzz_util.h"
#include "load/keras_model.h"
#include "plan/plan.h"

namespace {

std::string g_path;  // the model file, rewritten for every input
bool g_in_process = false;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kc2cpp::fuzz::init_loader_child();
  H5open();  // once here rather than in every loader child
  g_in_process = std::getenv("KC2CPP_FUZZ_IN_PROCESS") != nullptr;
  g_path = kc2cpp::fuzz::scratch_file("model");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kc2cpp::fuzz::write_input(g_path, data, size);
  kc2cpp::fuzz::expect_only_errors([&] {
    kc2cpp::driver::CompileOptions opt;
    opt.model = g_path;
    opt.output = "fuzz.cpp";
    opt.header = "fuzz.h";
    opt.load_timeout = std::chrono::seconds(2);  // libhdf5's endless loops: 2 s each, not 30
    if (g_in_process) {
      const kc2cpp::ir::Graph g = kc2cpp::driver::compile_graph(kc2cpp::load::load_model_in_process(g_path), opt.fp);
      kc2cpp::emit::emit(g, kc2cpp::plan::make_plan(g), {"fuzz", "model", "fuzz.h"});
    } else {
      kc2cpp::driver::generate(opt);
    }
  });
  return 0;
}
