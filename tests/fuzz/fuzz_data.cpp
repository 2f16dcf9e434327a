// libFuzzer target: the bytes of a data file (`kc2cpp eval --input`): an HDF5 file read as dataset /x,
// anything else as a .npy file, through data::Source: opened (an HDF5 file in the reading child
// process, as the command line does, load/isolate.h) and its first rows read and converted with a
// --scale/--offset transform. Seeds and regression inputs: tests/fuzz/regressions/data/
// (make_regressions.py: small valid files, gzip chunks, external storage, a virtual dataset) and the
// fixtures' .npy inputs.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/data.h"
#include "fuzz_util.h"

namespace {

std::string g_path;  // the data file, rewritten for every input

constexpr int64_t kMaxReadValues = int64_t{1} << 20;  // per input: the fuzzer is not to test RAM

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kc2cpp::fuzz::init_loader_child();
  H5open();  // once here rather than in every reading child
  g_path = kc2cpp::fuzz::scratch_file("data");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kc2cpp::fuzz::write_input(g_path, data, size);
  const bool hdf5 = size >= 8 && std::string(reinterpret_cast<const char*>(data), 8) == "\x89HDF\r\n\x1a\n";
  kc2cpp::fuzz::expect_only_errors([&] {
    const auto src = kc2cpp::data::Source::open(hdf5 ? g_path + ":/x" : g_path);
    if (src->row_size() > kMaxReadValues) return;
    const int64_t rows = std::min(src->rows(), std::max<int64_t>(1, kMaxReadValues / src->row_size()));
    std::vector<float> out(static_cast<size_t>(rows * src->row_size()));
    src->read(0, rows, kc2cpp::data::parse_transform("1/255", "0.5"), out.data());
  });
  return 0;
}
