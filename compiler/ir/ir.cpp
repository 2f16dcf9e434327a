#include "ir/ir.h"

#include <cstdio>

namespace kc2cpp::ir {

[[noreturn]] static void overflow(int64_t a, const char* op, int64_t b) {
  throw SizeOverflow("a size computed from the model (" + std::to_string(a) + op + std::to_string(b) +
                     ") overflows 64-bit integers");
}

int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) overflow(a, " * ", b);
  return r;
}

int64_t checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) overflow(a, " + ", b);
  return r;
}

int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n = checked_mul(n, d);
  return n;
}

int64_t checked_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 1 || d > kMaxElements) return -1;
    n = checked_mul(n, d);  // at most 2^30 * 2^30: never throws
    if (n > kMaxElements) return -1;
  }
  return n;
}

std::string to_string(const Shape& s) {
  std::string out = "(None";
  for (int64_t d : s) out += ", " + std::to_string(d);
  return out + ")";
}

const char* to_string(ActKind k) {
  switch (k) {
    case ActKind::Linear: return "linear";
    case ActKind::Relu: return "relu";
    case ActKind::Elu: return "elu";
    case ActKind::Selu: return "selu";
    case ActKind::Sigmoid: return "sigmoid";
    case ActKind::HardSigmoidK2: return "hard_sigmoid";
    case ActKind::HardSigmoidK3: return "hard_sigmoid";
    case ActKind::HardSilu: return "hard_silu";
    case ActKind::Tanh: return "tanh";
    case ActKind::Softplus: return "softplus";
    case ActKind::Softsign: return "softsign";
    case ActKind::Exponential: return "exponential";
    case ActKind::Silu: return "silu";
    case ActKind::GeluExact: return "gelu";
    case ActKind::GeluTanh: return "gelu";
    case ActKind::Mish: return "mish";
  }
  return "?";
}

static std::string fmt(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

std::string describe(const Activation& a) {
  switch (a.kind) {
    case ActKind::Relu: {
      const bool plain_max = a.b == std::numeric_limits<float>::infinity();
      if (a.a == 0 && plain_max && a.c == 0) return "relu";
      if (a.a == 0 && a.b == 6 && a.c == 0) return "relu6";
      if (plain_max && a.c == 0) return "leaky_relu(negative_slope=" + fmt(a.a) + ")";
      return "relu(negative_slope=" + fmt(a.a) + ", max_value=" + (plain_max ? "None" : fmt(a.b)) +
             ", threshold=" + fmt(a.c) + ")";
    }
    case ActKind::Elu: return a.a == 1.0f ? "elu" : "elu(alpha=" + fmt(a.a) + ")";
    case ActKind::HardSigmoidK2: return "hard_sigmoid(keras2: clip(0.2x+0.5))";
    case ActKind::HardSigmoidK3: return "hard_sigmoid(keras3: relu6(x+3)/6)";
    case ActKind::GeluTanh: return "gelu(approximate=True)";
    default: return to_string(a.kind);
  }
}

const char* to_string(MergeKind k) {
  switch (k) {
    case MergeKind::Add: return "Add";
    case MergeKind::Subtract: return "Subtract";
    case MergeKind::Multiply: return "Multiply";
    case MergeKind::Average: return "Average";
    case MergeKind::Maximum: return "Maximum";
    case MergeKind::Minimum: return "Minimum";
    case MergeKind::Divide: return "Divide";
  }
  return "?";
}

const char* op_kind_name(const OpAttrs& a) {
  struct V {
    const char* operator()(const DenseAttrs&) const { return "Dense"; }
    const char* operator()(const ActivationAttrs&) const { return "Activation"; }
    const char* operator()(const SoftmaxAttrs&) const { return "Softmax"; }
    const char* operator()(const PReluAttrs&) const { return "PReLU"; }
    const char* operator()(const ReshapeAttrs&) const { return "Reshape"; }
    const char* operator()(const IdentityAttrs&) const { return "Identity"; }
    const char* operator()(const ConvAttrs&) const { return "Conv"; }  // conv family
    const char* operator()(const DepthwiseConvAttrs&) const { return "DepthwiseConv"; }
    const char* operator()(const RepeatChannelsAttrs&) const { return "RepeatChannels"; }
    const char* operator()(const ConvTransposeAttrs&) const { return "ConvTranspose"; }
    const char* operator()(const PoolAttrs&) const { return "Pool"; }
    const char* operator()(const GlobalPoolAttrs&) const { return "GlobalPool"; }
    const char* operator()(const DepthTapsAttrs&) const { return "DepthTaps"; }
    const char* operator()(const EmbeddingAttrs&) const { return "Embedding"; }  // embedding, normalization and shape family
    const char* operator()(const BatchNormAttrs&) const { return "BatchNorm"; }
    const char* operator()(const LayerNormAttrs&) const { return "LayerNorm"; }
    const char* operator()(const PermuteAttrs&) const { return "Permute"; }
    const char* operator()(const PadCropAttrs&) const { return "PadCrop"; }
    const char* operator()(const RepeatAttrs&) const { return "Repeat"; }
    const char* operator()(const ResizeAttrs& r) const { return r.method == ResizeMethod::Nearest ? "ResizeNearest" : "ResizeBilinear"; }
    const char* operator()(const ChannelMapAttrs&) const { return "ChannelMap"; }  // preprocessing family
    const char* operator()(const RnnAttrs& r) const { return to_string(r.cell); }  // recurrent family
    const char* operator()(const ConvLstmAttrs&) const { return "ConvLSTM"; }
    const char* operator()(const BidirMergeAttrs&) const { return "BidirMerge"; }
    const char* operator()(const MaskAttrs& m) const { return m.form == MaskForm::Compute ? "Mask" : "ApplyMask"; }
    const char* operator()(const MergeAttrs& m) const { return to_string(m.kind); }  // merge family
    const char* operator()(const ConcatAttrs&) const { return "Concatenate"; }
    const char* operator()(const ScalarOpAttrs& s) const { return to_string(s.kind); }
    const char* operator()(const MatMulAttrs&) const { return "MatMul"; }
    const char* operator()(const L2NormalizeAttrs&) const { return "L2Normalize"; }
  };
  return std::visit(V{}, a);
}

int Graph::add_tensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::add_weight(Weight w) {
  weights.push_back(std::move(w));
  return static_cast<int>(weights.size()) - 1;
}

}  // namespace kc2cpp::ir
