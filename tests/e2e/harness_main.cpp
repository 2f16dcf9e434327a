// Test main of the end-to-end matrix (tests/e2e/matrix_test.cpp builds it once per configuration,
// linked with every generated model of that configuration).
//
//   harness <model> <input.f32> <output.f32> <isa.txt> [threads]
//
// <input.f32>: raw native values, input 0 of all n samples, then input 1, ...; n follows from the
//              file size. Each input's element type is the one predict_batch takes (float, or
//              int32_t for integer inputs such as Embedding indices).
// <output.f32>: raw float32, output 0 of all n samples, then output 1, ... <isa.txt>: isa().
// The workspace is poisoned with NaN bytes before predict_batch, so a read of scratch memory that
// was not written first changes the outputs instead of passing by luck.
// [threads] > 1 (the ThreadSanitizer run of tests/e2e/sanitizer_test.cpp): that many threads run
// predict_batch on all samples at once, each with a workspace of its own; their outputs must be
// bit-identical (exit 3 otherwise), and the first thread's are written.
//
// "harness_models.h", written by the test, includes each model's header and defines
// KC2CPP_HARNESS_MODELS(X) as X(ns1) X(ns2) ... No file-format parsing here: the test does that.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness_models.h"

namespace {

template <class W>
W& workspace() {
  static W w;  // plain data: static storage, no constructor
  return w;
}

// The element type of predict_batch's parameter K (inputs come first: `const T* input<k>`).
template <class F>
struct Signature;
template <class... P>
struct Signature<void (*)(P...)> {
  using Params = std::tuple<P...>;
};
template <class F, std::size_t K>
using Element = std::remove_const_t<std::remove_pointer_t<std::tuple_element_t<K, typename Signature<F>::Params>>>;

bool read_all(const char* path, std::vector<unsigned char>& bytes) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  unsigned char buf[65536];
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + got);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

template <class W, class F, std::size_t... I, std::size_t... O>
int run(F predict_batch, const int* in_sizes, const int* out_sizes, const char* isa, const char* in_path,
        const char* out_path, const char* isa_path, int threads, std::index_sequence<I...>,
        std::index_sequence<O...>) {
  std::vector<unsigned char> bytes;
  if (!read_all(in_path, bytes)) return std::fprintf(stderr, "harness: cannot read %s\n", in_path), 2;
  const std::size_t per_sample = (0 + ... + (in_sizes[I] * sizeof(Element<F, I>)));
  if (bytes.empty() || bytes.size() % per_sample != 0)
    return std::fprintf(stderr, "harness: %s: %zu bytes is not a whole number of samples\n", in_path, bytes.size()), 2;
  const long n = static_cast<long>(bytes.size() / per_sample);

  std::tuple<std::vector<Element<F, I>>...> in;  // input k of all samples, in its own element type
  std::size_t at = 0;
  const auto take = [&](auto& v, int size) {
    v.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(size));
    std::memcpy(static_cast<void*>(v.data()), bytes.data() + at, v.size() * sizeof(v[0]));
    at += v.size() * sizeof(v[0]);
  };
  (take(std::get<I>(in), in_sizes[I]), ...);

  std::size_t out_at[sizeof...(O) + 1] = {0};
  for (std::size_t k = 0; k < sizeof...(O); ++k) out_at[k + 1] = out_at[k] + static_cast<std::size_t>(n * out_sizes[k]);
  std::vector<std::vector<float>> ys(static_cast<std::size_t>(threads), std::vector<float>(out_at[sizeof...(O)]));
  std::vector<float>& y = ys[0];

  if (threads <= 1) {
    std::memset(static_cast<void*>(&workspace<W>()), 0xff, sizeof(W));
    predict_batch(std::get<I>(in).data()..., (y.data() + out_at[O])..., n, workspace<W>());
  } else {
    std::vector<std::unique_ptr<W>> ws;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      ws.emplace_back(new W);
      std::memset(static_cast<void*>(ws.back().get()), 0xff, sizeof(W));
    }
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        predict_batch(std::get<I>(in).data()..., (ys[static_cast<std::size_t>(t)].data() + out_at[O])..., n, *ws[t]);
      });
    for (std::thread& th : pool) th.join();
    for (int t = 1; t < threads; ++t)
      if (std::memcmp(ys[static_cast<std::size_t>(t)].data(), y.data(), y.size() * sizeof(float)) != 0)
        return std::fprintf(stderr, "harness: thread %d computed other bits than thread 0\n", t), 3;
  }

  std::FILE* out = std::fopen(out_path, "wb");
  if (!out || std::fwrite(y.data(), 4, y.size(), out) != y.size() || std::fclose(out) != 0)
    return std::fprintf(stderr, "harness: cannot write %s\n", out_path), 2;
  std::FILE* isa_file = std::fopen(isa_path, "wb");
  if (!isa_file || std::fputs(isa, isa_file) < 0 || std::fclose(isa_file) != 0)
    return std::fprintf(stderr, "harness: cannot write %s\n", isa_path), 2;
  return 0;
}

struct Model {
  const char* name;
  int (*run)(const char* in, const char* out, const char* isa, int threads);
};

#define KC2CPP_HARNESS_ENTRY(ns)                                                                         \
  {#ns, [](const char* in, const char* out, const char* isa, int threads) {                              \
     return run<ns::Workspace>(&ns::predict_batch, ns::kInputSizes, ns::kOutputSizes, ns::isa(), in, out, isa, \
                               threads, std::make_index_sequence<ns::kNumInputs>(),                      \
                               std::make_index_sequence<ns::kNumOutputs>());                             \
   }},

const Model kModels[] = {KC2CPP_HARNESS_MODELS(KC2CPP_HARNESS_ENTRY)};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s <model> <input.f32> <output.f32> <isa.txt> [threads]\n", argv[0]);
    return 2;
  }
  const int threads = argc == 6 && std::atoi(argv[5]) > 1 ? std::atoi(argv[5]) : 1;
  for (const Model& m : kModels)
    if (std::strcmp(m.name, argv[1]) == 0) return m.run(argv[2], argv[3], argv[4], threads);
  std::fprintf(stderr, "harness: no model '%s' in this build\n", argv[1]);
  return 2;
}
