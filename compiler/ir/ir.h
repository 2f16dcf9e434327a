// The IR: static-shape tensors, typed ops, named weights.
//
// Invariants:
// - Shapes are per sample (no batch dimension); every dimension is known and > 0.
// - Tensors are dense row-major (Keras's channels_last element order).
// - An op's `attrs` alternative names its kind; adding an op kind means adding one
//   struct here and one alternative to `OpAttrs` (the compiler then points at every
//   visitor - eval, emit, plan - that must learn it).
// - Weights are float32 in Keras's own layout unless an op's attrs say otherwise.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "error.h"

namespace kc2cpp::ir {

using Shape = std::vector<int64_t>;

// The one checked arithmetic for sizes computed from a model's numbers: element counts, strides,
// convolution geometry and padding, arena offsets, weight counts (lower, plan, emit, eval). A result
// beyond int64 throws SizeOverflow (a kc2cpp::Error) instead of wrapping; lowering reports it against
// the layer. Config integers and dimensions are at most 2^30 (README, "checks every number"), so
// the limits below are met long before int64 is, and the checks are a second line of defence.
class SizeOverflow : public Error {
 public:
  using Error::Error;
};
int64_t checked_mul(int64_t a, int64_t b);
int64_t checked_add(int64_t a, int64_t b);

// The element count of `s` (checked_mul).
int64_t num_elements(const Shape& s);
// Limits the IR keeps (the generated code indexes with int): every dimension >= 1, at most
// kMaxElements elements per tensor. Lowering checks each new tensor with checked_elements.
inline constexpr int64_t kMaxElements = int64_t{1} << 30;
// All the weights of a model together, in floats (1 GiB; VGG16 has 138 M): the lowering refuses more,
// including weights it computes (PReLU's broadcast alpha), before allocating them.
inline constexpr int64_t kMaxWeightFloats = int64_t{1} << 28;
// The element count of `s`, or -1 if a dimension is below 1 or the count exceeds kMaxElements
// (computed without overflow).
int64_t checked_elements(const Shape& s);
std::string to_string(const Shape& s);  // "(None, 3, 4)" as Keras prints it, batch included

enum class DType { F32, I32 };

struct Tensor {
  std::string name;  // Keras layer name that produced it (for comments and diagnostics)
  Shape shape;
  DType dtype = DType::F32;
};

// Elementwise activation functions; formulas (and their exact operation order) are
// documented beside their implementation in runtime_min/kc2cpp_math.h.
enum class ActKind {
  Linear,
  Relu,          // Keras relu(x, negative_slope=a, max_value=b, threshold=c); b = +inf when unset
  Elu,           // x > 0 ? x : a * expm1(x)
  Selu,
  Sigmoid,
  HardSigmoidK2, // clip(0.2 x + 0.5, 0, 1)     (Keras 2)
  HardSigmoidK3, // relu6(x + 3) / 6            (Keras 3)
  HardSilu,      // x * relu6(x + 3) / 6
  Tanh,
  Softplus,
  Softsign,
  Exponential,
  Silu,
  GeluExact,
  GeluTanh,
  Mish,
};
const char* to_string(ActKind k);

struct Activation {
  ActKind kind = ActKind::Linear;
  float a = 0.0f, b = std::numeric_limits<float>::infinity(), c = 0.0f;
  bool is_linear() const { return kind == ActKind::Linear; }
  // max(x, 0) with no slope, cap or threshold: runs as relu_plain (same bits as relu(x, 0, inf, 0)).
  bool is_plain_relu() const { return kind == ActKind::Relu && a == 0 && c == 0 && b == std::numeric_limits<float>::infinity(); }
  bool operator==(const Activation& o) const { return kind == o.kind && a == o.a && b == o.b && c == o.c; }
};
std::string describe(const Activation& a);  // "relu", "leaky_relu(alpha=0.05)", ...

// y[..., j] = act(sum_i x[..., i] * kernel[i, j] + bias[j]) over the last axis.
// Reduction order (the determinism contract, shared by eval and emit):
//   for i = 0..n-1 in order: s_{i mod splits} = x_i * w_ij if i < splits (rounded product), else
//   s_{i mod splits} += x_i * w_ij (product rounded, then sum rounded; one fused rounding in
//   FpMode::Fused); total = tree(0, splits), tree(lo, hi) = s_lo if hi - lo = 1, else
//   tree(lo, m) + tree(m, hi) with m = lo + the largest power of two below hi - lo
//   ((s0+s1)+(s2+s3) for 4; splits = n is a pairwise tree of the products); y = act(total + bias_j).
//   FpMode::Fused with a bias: s_0 starts as fma(x_0, w_0j, bias_j) (one rounding) and y = act(total),
//   so the bias costs no add on the latency path.
struct DenseAttrs {
  int64_t units = 0;
  int kernel = -1;  // weight index, shape [in, units]
  int bias = -1;    // weight index or -1
  Activation act;
  int splits = 1;   // virtual accumulators, in [1, n]; chosen by passes::choose_splits
};

struct ActivationAttrs {  // elementwise
  Activation act;
};

// Softmax (or log-softmax) over one axis: m = max; e_j = exp(x_j - m); s = sum e_j in index
// order; softmax y_j = e_j / s; log-softmax y_j = (x_j - m) - log(s).
// causal_rows > 0 (attention's use_causal_mask; the axis is the last, viewed as rows of scores
// [..][causal_rows][len]): first x_j = x_j + kCausalMaskAdd where j > i, i = the row's index modulo
// causal_rows (Keras adds -1e9 to the scores its causal mask hides: Softmax's (1 - mask) * -1e9 and
// Attention's scores - 1e9 * mask give these bits; a hidden weight is then exp(-1e9 - m) = 0, which
// Keras 3's multiplication of the weights by the mask leaves as it is).
inline constexpr float kCausalMaskAdd = -1e9f;
struct SoftmaxAttrs {
  int axis = -1;  // normalised: 0-based per-sample axis
  bool log = false;
  int64_t causal_rows = 0;
};

// y = x >= 0 ? x : alpha * x, alpha broadcast over the per-sample shape (shared axes = size 1).
struct PReluAttrs {
  int alpha = -1;  // weight index, shape = per-sample shape with shared axes set to 1
};

struct ReshapeAttrs {};   // a view: same elements, new shape
struct IdentityAttrs {};  // Dropout & co at inference; removed by passes::remove_identity

#include "ir/ops_conv.h"  // conv family attrs (a fragment inside this namespace: they use Activation)
#include "ir/ops_shape.h"  // embedding, normalization and shape family attrs (a fragment, like ops_conv.h)
#include "ir/ops_recurrent.h"  // recurrent family attrs (a fragment, like ops_conv.h)
#include "ir/ops_merge.h"  // merge family attrs: ops with several inputs (a fragment, like ops_conv.h)
#include "ir/ops_preprocessing.h"  // preprocessing family attrs (a fragment, like ops_conv.h)

// Op kinds, one line per family (each family's attrs live in ir/ops_<family>.h, included above).
using OpAttrs = std::variant<
    DenseAttrs, ActivationAttrs, SoftmaxAttrs, PReluAttrs, ReshapeAttrs, IdentityAttrs  // core
    , ConvAttrs, DepthwiseConvAttrs, RepeatChannelsAttrs, ConvTransposeAttrs, PoolAttrs, GlobalPoolAttrs, DepthTapsAttrs  // conv family
    , RnnAttrs, ConvLstmAttrs, BidirMergeAttrs, MaskAttrs  // recurrent family
    , EmbeddingAttrs, BatchNormAttrs, LayerNormAttrs, PermuteAttrs, PadCropAttrs, RepeatAttrs, ResizeAttrs  // embedding, normalization and shape family
    , ChannelMapAttrs  // preprocessing family
    , MergeAttrs, ScalarOpAttrs, ConcatAttrs, MatMulAttrs, L2NormalizeAttrs  // merge family
    >;
const char* op_kind_name(const OpAttrs& a);  // "Dense", "Activation", ...

// f(int& w) for every weight-index field of an op's attrs (-1 when unused), for passes that
// renumber weights. One overload per attrs type, none generic: an op kind without one does not
// compile where an OpAttrs is visited with it.
template <class F> void for_each_weight(DenseAttrs& a, F f) { f(a.kernel), f(a.bias); }
template <class F> void for_each_weight(PReluAttrs& a, F f) { f(a.alpha); }
template <class F> void for_each_weight(ConvAttrs& a, F f) { f(a.kernel), f(a.bias); }
template <class F> void for_each_weight(DepthwiseConvAttrs& a, F f) { f(a.kernel), f(a.bias); }
template <class F> void for_each_weight(ConvTransposeAttrs& a, F f) { f(a.kernel), f(a.bias); }
template <class F> void for_each_weight(RnnAttrs& a, F f) { f(a.kernel), f(a.recurrent), f(a.bias); }
template <class F> void for_each_weight(ConvLstmAttrs& a, F f) {
  f(a.input.kernel), f(a.input.bias), f(a.recurrent.kernel), f(a.recurrent.bias);
}
template <class F> void for_each_weight(EmbeddingAttrs& a, F f) { f(a.table); }
template <class F> void for_each_weight(BatchNormAttrs& a, F f) {
  f(a.scale), f(a.shift), f(a.gamma), f(a.beta), f(a.mean), f(a.variance);
}
template <class F> void for_each_weight(LayerNormAttrs& a, F f) { f(a.gamma), f(a.beta); }
template <class F> void for_each_weight(ChannelMapAttrs& a, F f) { f(a.a), f(a.b); }
#define KC2CPP_NO_WEIGHTS(T) template <class F> void for_each_weight(T&, F) {}
KC2CPP_NO_WEIGHTS(ActivationAttrs) KC2CPP_NO_WEIGHTS(SoftmaxAttrs) KC2CPP_NO_WEIGHTS(ReshapeAttrs)
KC2CPP_NO_WEIGHTS(IdentityAttrs) KC2CPP_NO_WEIGHTS(RepeatChannelsAttrs) KC2CPP_NO_WEIGHTS(DepthTapsAttrs) KC2CPP_NO_WEIGHTS(PoolAttrs)
KC2CPP_NO_WEIGHTS(GlobalPoolAttrs) KC2CPP_NO_WEIGHTS(BidirMergeAttrs) KC2CPP_NO_WEIGHTS(MaskAttrs) KC2CPP_NO_WEIGHTS(PermuteAttrs)
KC2CPP_NO_WEIGHTS(PadCropAttrs) KC2CPP_NO_WEIGHTS(RepeatAttrs) KC2CPP_NO_WEIGHTS(ResizeAttrs)
KC2CPP_NO_WEIGHTS(MergeAttrs) KC2CPP_NO_WEIGHTS(ScalarOpAttrs) KC2CPP_NO_WEIGHTS(ConcatAttrs) KC2CPP_NO_WEIGHTS(MatMulAttrs)
KC2CPP_NO_WEIGHTS(L2NormalizeAttrs)
#undef KC2CPP_NO_WEIGHTS

struct Op {
  std::string name;         // Keras layer name
  std::string keras_class;  // Keras class name
  std::vector<int> inputs, outputs;  // tensor ids (merge ops read several; a few ops write several)
  OpAttrs attrs;
  std::vector<std::string> fused;  // "name (Class)" of layers a pass folded into this op
  // TimeDistributed: the op runs independently on `slices` consecutive equal slices of each input
  // and output (slice s of a tensor = elements [s n, (s + 1) n) with n = its size / slices). Its
  // tensors keep their full shapes [slices, ...]; the attrs and slice_shape() describe one slice.
  // The evaluator and the emitter honour it for every op kind (eval.cpp, emit_ops.cpp).
  int64_t slices = 1;
};

struct Weight {
  std::string name;  // "<layer>/<keras weight name>"
  Shape shape;
  std::vector<float> data;
};

enum class FpMode { Unfused, Fused };

struct Graph {
  std::string name;           // model name from the config
  std::string keras_version;  // as saved in the file
  std::string backend;
  std::string source;         // the model file as the user named it, for messages ("" in unit tests)
  std::vector<Tensor> tensors;
  std::vector<Op> ops;        // topological order: an op reads only graph inputs and earlier ops' outputs
  std::vector<Weight> weights;
  std::vector<int> inputs, outputs;  // tensor ids (merge ops read several; a few ops write several)
  FpMode fp = FpMode::Unfused;

  int add_tensor(Tensor t);
  int add_weight(Weight w);
};

// The shape an op's kernel sees for tensor t: t's shape, without the leading axis if op.slices > 1.
Shape slice_shape(const Graph& g, const Op& op, int t);

}  // namespace kc2cpp::ir
