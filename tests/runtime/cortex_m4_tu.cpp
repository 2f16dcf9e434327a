// Compile-only check for arm-none-eabi-g++ (Cortex-M4F, hard float): the runtime headers pasted
// the way the emitter pastes them, with every operation and function instantiated.
#include "kc2cpp_isa.h"

namespace m {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
}  // namespace kc
}  // namespace m

#if !defined(KC2CPP_ISA_SCALAR)
#error "Cortex-M4 must select the scalar path"
#endif
#if !defined(KC2CPP_HAS_FMA)
#error "Cortex-M4F has a fused vfma.f32"
#endif

namespace {
using m::kc::vf;
constexpr float kInf = __builtin_inff();

template <class V> V all_ops(V x, V y, V z) {
  using namespace m::kc;
  V r = add(sub(mul(x, y), div(x, z)), fma(x, y, z));
  r = add(r, select(mand(lt(x, y), mor(le(y, z), mnot(gt(x, z)))), neg(x), abs(y)));
  r = add(r, select(ge(x, y), copysign_(x, y), select(eq(x, z), min_(x, y), max_(y, z))));
  r = add(r, add(exp(x), expm1(y)));
  r = add(r, add(log(x), log1p(y)));
  r = add(r, add(tanh(x), add(sigmoid(y), erf(z))));
  r = add(r, add(relu(x, 0.1f, kInf, 0.0f), relu(y, 0.2f, 6.0f, 0.5f)));
  r = add(r, add(relu_plain(x), add(elu(y, 0.5f), selu(z))));
  r = add(r, add(hard_sigmoid_k2(x), add(hard_sigmoid_k3(y), hard_silu(z))));
  r = add(r, add(softplus(x), add(softsign(y), exponential(z))));
  r = add(r, add(silu(x), add(gelu(y), add(gelu_tanh(z), mish(x)))));
  // the --fp fused math
  r = add(r, add(exp<true>(x), add(expm1<true>(y), add(tanh<true>(z), sigmoid<true>(x)))));
  r = add(r, add(erf<true>(x), add(elu<true>(y, 0.5f), add(selu<true>(z), softplus<true>(x)))));
  r = add(r, add(exponential<true>(x), add(silu<true>(y), add(gelu<true>(z), add(gelu_tanh<true>(x), mish<true>(y))))));
  return r;
}
}  // namespace

float kc_cortex_m4_probe(const float* in, float* out, int n) {
  for (int i = 0; i + 2 < n; ++i) out[i] = all_ops<float>(in[i], in[i + 1], in[i + 2]);
  vf v = m::kc::vload_n(in, n < m::kc::kLanes ? n : m::kc::kLanes);
  m::kc::vstore_n(out, all_ops<vf>(v, v, v), 1);
  return out[0];
}
