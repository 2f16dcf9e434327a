// Preprocessing ops (Rescaling, Normalization). A fragment of ir/ir.h: included there INSIDE namespace
// kc2cpp::ir, after ops_shape.h, so it has no includes and no namespace of its own; do not include it
// directly. (CenterCrop lowers to PadCropAttrs, Resizing to ResizeAttrs: ops_shape.h.)
#pragma once

// A per-channel elementwise map on the tensor viewed as [outer][channels][inner]; a and b are weights
// [channels] (one channel when the parameters are scalars). Per element x of channel c:
//   MulAdd: y = x * a[c] + b[c]     (product rounded, then the sum; FpMode::Fused: fma(x, a, b))
//           Rescaling (a = float32(scale), b = float32(offset)), as Keras computes inputs * scale + offset;
//           Normalization(invert=True) (a = d, b = mean), Keras's mean + inputs * d.
//   SubDiv: y = (x - a[c]) / b[c]   (difference rounded, then an IEEE division: no fused form)
//           Normalization (a = mean, b = d), Keras's (inputs - mean) / d.
// with d = max(sqrt(variance), float32(1e-7)) per channel, computed in float32 by the lowering
// (correctly rounded sqrt) exactly as Keras computes it; 1e-7 is Keras's default backend epsilon().
enum class ChannelMapForm { MulAdd, SubDiv };
struct ChannelMapAttrs {
  ChannelMapForm form = ChannelMapForm::MulAdd;
  int a = -1, b = -1;
  int64_t outer = 1, channels = 1, inner = 1;
};

inline std::vector<std::pair<int, std::string>> unpadded_weights(const ChannelMapAttrs& m) {
  const std::string n = "[" + std::to_string(m.channels) + "]";
  if (m.form == ChannelMapForm::SubDiv) return {{m.a, "mean " + n}, {m.b, "max(sqrt(variance), epsilon) " + n}};
  return {{m.a, "scale " + n}, {m.b, "offset " + n}};
}
