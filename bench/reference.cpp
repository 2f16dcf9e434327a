// kc2cpp benchmark: scalar-loop and Eigen reference implementations (see reference.h).
// Built with -O3 -march=native -ffp-contract=fast (bench/CMakeLists.txt): the references get
// every advantage the host compiler can give them (auto-vectorisation, FMA contraction).
#include "reference.h"

#include <time.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

#include <Eigen/Dense>

namespace bench {
namespace {

// ---------------------------------------------------------------------------------------------
// Plain scalar loops
// ---------------------------------------------------------------------------------------------
void dense_loop(const float* __restrict x, const float* __restrict w, const float* __restrict b,
                float* __restrict y, int in, int out) {
  for (int j = 0; j < out; ++j) y[j] = b[j];
  for (int i = 0; i < in; ++i) {
    const float xi = x[i];
    const float* __restrict wr = w + static_cast<std::size_t>(i) * out;
    for (int j = 0; j < out; ++j) y[j] += xi * wr[j];
  }
}

void act_loop(float* y, int n, const ActSpec& a) {
  switch (a.kind) {
    case ActKind::Linear: break;
    case ActKind::Relu:
      for (int j = 0; j < n; ++j) y[j] = y[j] < 0.0f ? 0.0f : y[j];
      break;
    case ActKind::Sigmoid:
      for (int j = 0; j < n; ++j) y[j] = 1.0f / (1.0f + std::exp(-y[j]));
      break;
    case ActKind::Elu:
      for (int j = 0; j < n; ++j) y[j] = y[j] > 0.0f ? y[j] : a.alpha * std::expm1(y[j]);
      break;
    case ActKind::Leaky:
      for (int j = 0; j < n; ++j) y[j] = y[j] < 0.0f ? a.alpha * y[j] : y[j];
      break;
  }
}

class ScalarModel final : public Impl {
 public:
  explicit ScalarModel(const ModelSpec& m) : m_(m) {
    int widest = 0;
    for (const auto& l : m_.layers) widest = l.out > widest ? l.out : widest;
    buf_[0].assign(widest, 0.0f);
    buf_[1].assign(widest, 0.0f);
  }
  void predict(const float* x, float* y) override {
    const float* cur = x;
    const std::size_t n = m_.layers.size();
    for (std::size_t l = 0; l < n; ++l) {
      const DenseSpec& d = m_.layers[l];
      float* o = (l + 1 == n) ? y : buf_[l & 1].data();
      dense_loop(cur, d.kernel.data(), d.bias.data(), o, d.in, d.out);
      for (const ActSpec& a : d.acts) act_loop(o, d.out, a);
      cur = o;
    }
  }

 private:
  ModelSpec m_;
  std::vector<float> buf_[2];
};

// ---------------------------------------------------------------------------------------------
// Eigen
// ---------------------------------------------------------------------------------------------
template <class Vec>
void act_eigen(Vec& h, const ActSpec& a) {
  auto A = h.array();
  switch (a.kind) {
    case ActKind::Linear: break;
    case ActKind::Relu: h = A.max(0.0f).matrix(); break;
    case ActKind::Sigmoid: h = A.logistic().matrix(); break;
    case ActKind::Elu: h = (A > 0.0f).select(A, a.alpha * (A.exp() - 1.0f)).matrix(); break;
    case ActKind::Leaky: h = (A < 0.0f).select(a.alpha * A, A).matrix(); break;
  }
}

// One layer: W is [out x in] (the transpose of the Keras kernel; the Keras row-major [in][out]
// kernel IS that matrix in Eigen's default column-major order), h = b; h += W x.
template <class Mat, class Vec>
struct ELayer {
  Mat W;
  Vec b, h;
  std::vector<ActSpec> acts;
  void init(const DenseSpec& d) {
    W = Eigen::Map<const Eigen::MatrixXf>(d.kernel.data(), d.out, d.in);
    b = Eigen::Map<const Eigen::VectorXf>(d.bias.data(), d.out);
    h = b;
    acts = d.acts;
  }
  template <class In>
  void run(const In& x) {
    h = b;
    h.noalias() += W * x;
    for (const ActSpec& a : acts) act_eigen(h, a);
  }
};

class EigenDynamicModel final : public Impl {
  using L = ELayer<Eigen::MatrixXf, Eigen::VectorXf>;

 public:
  explicit EigenDynamicModel(const ModelSpec& m) : in_(m.in_size()), ls_(m.layers.size()) {
    for (std::size_t l = 0; l < ls_.size(); ++l) ls_[l].init(m.layers[l]);
  }
  void predict(const float* x, float* y) override {
    ls_[0].run(Eigen::Map<const Eigen::VectorXf>(x, in_));
    for (std::size_t l = 1; l < ls_.size(); ++l) ls_[l].run(ls_[l - 1].h);
    Eigen::Map<Eigen::VectorXf> out(y, ls_.back().h.size());
    out = ls_.back().h;
  }

 private:
  int in_;
  std::vector<L> ls_;
};

template <int In, int Out>
using FixedLayer = ELayer<Eigen::Matrix<float, Out, In>, Eigen::Matrix<float, Out, 1>>;

template <class Seq, int... D>
struct FixedLayers;
template <std::size_t... I, int... D>
struct FixedLayers<std::index_sequence<I...>, D...> {
  static constexpr int dims[] = {D...};
  using type = std::tuple<FixedLayer<dims[I], dims[I + 1]>...>;
};

template <int... D>
class EigenFixedModel final : public Impl {
  static constexpr int kDims[] = {D...};
  static constexpr std::size_t kN = sizeof...(D) - 1;
  using Layers = typename FixedLayers<std::make_index_sequence<kN>, D...>::type;

 public:
  static bool matches(const ModelSpec& m) {
    if (m.layers.size() != kN) return false;
    for (std::size_t l = 0; l < kN; ++l)
      if (m.layers[l].in != kDims[l] || m.layers[l].out != kDims[l + 1]) return false;
    return true;
  }
  explicit EigenFixedModel(const ModelSpec& m) { init(m, std::make_index_sequence<kN>()); }
  void predict(const float* x, float* y) override {
    std::get<0>(ls_).run(Eigen::Map<const Eigen::Matrix<float, kDims[0], 1>>(x));
    run_rest(std::make_index_sequence<kN - 1>());
    Eigen::Map<Eigen::Matrix<float, kDims[kN], 1>> out(y);
    out = std::get<kN - 1>(ls_).h;
  }

 private:
  template <std::size_t... I>
  void init(const ModelSpec& m, std::index_sequence<I...>) {
    (std::get<I>(ls_).init(m.layers[I]), ...);
  }
  template <std::size_t... I>
  void run_rest(std::index_sequence<I...>) {
    (std::get<I + 1>(ls_).run(std::get<I>(ls_).h), ...);
  }
  Layers ls_;
};

template <int... D>
std::unique_ptr<Impl> try_fixed(const ModelSpec& m) {
  if (!EigenFixedModel<D...>::matches(m)) return nullptr;
  return std::make_unique<EigenFixedModel<D...>>(m);
}

}  // namespace

std::unique_ptr<Impl> make_scalar(const ModelSpec& m) { return std::make_unique<ScalarModel>(m); }
std::unique_ptr<Impl> make_eigen_dynamic(const ModelSpec& m) {
  return std::make_unique<EigenDynamicModel>(m);
}
std::unique_ptr<Impl> make_eigen_fixed(const ModelSpec& m) {
  // The benchmark's models: summary walkthrough, Dense 8->8, 64->64, 64->64->64.
  if (auto p = try_fixed<3, 32, 32, 16, 5>(m)) return p;
  if (auto p = try_fixed<8, 8>(m)) return p;
  if (auto p = try_fixed<64, 64>(m)) return p;
  if (auto p = try_fixed<64, 64, 64>(m)) return p;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Machine facts
// ---------------------------------------------------------------------------------------------
std::string eigen_version() {
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

namespace {
// Thread CPU time in ns: time spent descheduled (busy machine) does not count.
double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
}  // namespace

double measure_core_ghz(int reps, long iters) {
#if defined(__x86_64__)
  // A chain of dependent 64-bit imul (3-cycle latency on every Intel core since Nehalem and on
  // AMD Zen). Not `add $imm`: Golden Cove-class cores fold immediate adds at rename, so a
  // dependent add chain can retire more than one add per cycle.
  double best = 0.0;
  for (int rep = 0; rep < reps; ++rep) {
    std::uint64_t v = 3;
    const double t0 = thread_ns();
    for (long i = 0; i < iters; ++i)
      asm volatile(".rept 100\n\timulq %0, %0\n\t.endr" : "+r"(v));
    const double ns = thread_ns() - t0;
    const double ghz = static_cast<double>(iters) * 300.0 / ns;
    best = ghz > best ? ghz : best;
  }
  return best;
#else
  (void)reps;
  (void)iters;
  return 0.0;
#endif
}

double measure_fma_lanes_per_cycle(bool avx512, double core_ghz, int reps, long iters) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (core_ghz <= 0.0) return 0.0;
  if (avx512 ? !__builtin_cpu_supports("avx512f") : !__builtin_cpu_supports("fma")) return 0.0;
  double best_ns = 1e300;
  for (int rep = 0; rep < reps; ++rep) {
    std::uint64_t n = static_cast<std::uint64_t>(iters);
    // One asm loop: zero 14 registers once, then 12 independent accumulator chains
    // (acc += 0 * 0), enough to cover 4-cycle latency x 2 FMA ports; counter in a GPR.
#define BENCH_FMA_LOOP(R)                                                                 \
  asm volatile(                                                                          \
      "vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t"               \
      "vxorps %%xmm2, %%xmm2, %%xmm2\n\tvxorps %%xmm3, %%xmm3, %%xmm3\n\t"               \
      "vxorps %%xmm4, %%xmm4, %%xmm4\n\tvxorps %%xmm5, %%xmm5, %%xmm5\n\t"               \
      "vxorps %%xmm6, %%xmm6, %%xmm6\n\tvxorps %%xmm7, %%xmm7, %%xmm7\n\t"               \
      "vxorps %%xmm8, %%xmm8, %%xmm8\n\tvxorps %%xmm9, %%xmm9, %%xmm9\n\t"               \
      "vxorps %%xmm10, %%xmm10, %%xmm10\n\tvxorps %%xmm11, %%xmm11, %%xmm11\n\t"         \
      "vxorps %%xmm14, %%xmm14, %%xmm14\n\tvxorps %%xmm15, %%xmm15, %%xmm15\n\t"         \
      ".p2align 5\n1:\n\t"                                                               \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "0\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "1\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "2\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "3\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "4\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "5\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "6\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "7\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "8\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "9\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "10\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "11\n\t" \
      "decq %0\n\tjnz 1b\n\tvzeroupper\n\t"                                              \
      : "+r"(n)                                                                          \
      :                                                                                  \
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",     \
        "xmm10", "xmm11", "xmm14", "xmm15", "cc")
    const double t0 = thread_ns();
    if (avx512)
      BENCH_FMA_LOOP("zmm");
    else
      BENCH_FMA_LOOP("ymm");
#undef BENCH_FMA_LOOP
    const double ns = thread_ns() - t0;
    best_ns = ns < best_ns ? ns : best_ns;
  }
  const double cycles = best_ns * core_ghz;
  return static_cast<double>(iters) * 12.0 * (avx512 ? 16.0 : 8.0) / cycles;
#else
  (void)avx512;
  (void)core_ghz;
  (void)reps;
  (void)iters;
  return 0.0;
#endif
}

}  // namespace bench
