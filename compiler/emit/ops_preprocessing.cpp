// Emitters of the preprocessing ops (kernels: runtime_min/kc2cpp_kernels_preprocessing.h; the MulAdd form
// runs kc2cpp_kernels_shape.h's batchnorm kernel, which computes exactly y = x * a[c] + b[c]).
#include "emit/ops.h"

namespace kc2cpp::emit {

void emit_op(const ir::ChannelMapAttrs& m, OpEmitter& e) {
  const bool sub_div = m.form == ir::ChannelMapForm::SubDiv;
  const std::string n = std::to_string(m.channels);
  const bool invert = !sub_div && e.op.keras_class == "Normalization";
  e.comment(std::string(sub_div  ? "y = (x - mean[c]) / max(sqrt(variance[c]), epsilon)"
                        : invert ? "invert: y = x * max(sqrt(variance[c]), epsilon) + mean[c]"
                                 : "y = x * scale[c] + offset[c]") +
            " over " + n + (m.channels == 1 ? " channel" : " channels"));
  const std::string fused = e.g.fp == ir::FpMode::Fused ? "true" : "false";
  e.p.emit({{"kernel", sub_div ? "kc::channel_sub_div" : "kc::batchnorm<" + fused + ">"},
            {"in", e.in()},
            {"a", e.weight(m.a)},
            {"b", e.weight(m.b)},
            {"out", e.out()},
            {"outer", std::to_string(m.outer)},
            {"channels", n},
            {"inner", std::to_string(m.inner)}},
           "$kernel$($in$, $a$, $b$, $out$, $outer$, $channels$, $inner$);");
}

}  // namespace kc2cpp::emit
