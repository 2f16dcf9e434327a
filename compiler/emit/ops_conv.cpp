// Emitters of the convolution and pooling ops (kernels: runtime_min/kc2cpp_kernels_conv.h).
#include "emit/ops.h"

namespace kc2cpp::emit {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// "5x5" (2-D layers) or "5" (1-D layers: the output is [steps, channels]).
std::string pair(const OpEmitter& e, int64_t h, int64_t w) {
  return e.out_shape().size() == 2 ? str(w) : str(h) + "x" + str(w);
}

// "5x5 window, strides 1x1, dilation 1x1, padding same"
std::string window(const OpEmitter& e, const ir::ConvGeom& g, const char* what, bool dilation) {
  std::string s = pair(e, g.k_h, g.k_w) + " " + what + ", strides " + pair(e, g.stride_h, g.stride_w);
  if (dilation) s += ", dilation " + pair(e, g.dil_h, g.dil_w);
  return s + ", padding " + g.padding;
}

std::string shapes(const OpEmitter& e) {
  return "; " + ir::to_string(e.in_shape()) + " -> " + ir::to_string(e.out_shape());
}

const char* boolean(bool b) { return b ? "true" : "false"; }

Printer::Vars common(const OpEmitter& e, int kernel, int bias) {
  return {{"in", e.in()},
          {"out", e.out()},
          {"w", e.weight(kernel)},
          {"b", bias >= 0 ? e.weight(bias) : "nullptr"},
          {"bias", boolean(bias >= 0)},
          {"fused", boolean(e.g.fp == ir::FpMode::Fused)}};
}

}  // namespace

std::string conv_geom(const ir::ConvGeom& g) {
  std::string s;
  for (int64_t v : {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.k_h, g.k_w, g.stride_h, g.stride_w, g.dil_h,
                    g.dil_w, g.pad_top, g.pad_left})
    s += (s.empty() ? "" : ", ") + str(v);
  return "kc::Geom<" + s + ">";
}

void emit_op(const ir::ConvAttrs& a, OpEmitter& e) {
  const ir::ConvGeom& g = a.geom;
  e.comment(str(g.out_c) + " filters, " + window(e, g, "kernel", true) +
            (a.groups > 1 ? ", " + str(a.groups) + " groups" : "") + (a.bias >= 0 ? ", bias" : ", no bias") +
            ", activation " + ir::describe(a.act) + shapes(e));
  Printer::Vars v = common(e, a.kernel, a.bias);
  v.insert(v.end(), {{"geom", conv_geom(g)}, {"groups", str(a.groups)}, {"act", act_functor(a.act, e.g.fp)}});
  e.p.emit(v, "kc::conv2d<$geom$, $groups$, $bias$, $fused$>($in$, $w$, $b$, $out$, $act$);");
}

void emit_op(const ir::DepthwiseConvAttrs& a, OpEmitter& e) {
  const ir::ConvGeom& g = a.geom;
  e.comment("depthwise, " + window(e, g, "kernel", true) + (a.bias >= 0 ? ", bias" : ", no bias") + ", activation " +
            ir::describe(a.act) + shapes(e));
  Printer::Vars v = common(e, a.kernel, a.bias);
  v.insert(v.end(), {{"geom", conv_geom(g)}, {"act", act_functor(a.act, e.g.fp)}});
  e.p.emit(v, "kc::depthwise_conv2d<$geom$, $bias$, $fused$>($in$, $w$, $b$, $out$, $act$);");
}

void emit_op(const ir::RepeatChannelsAttrs& a, OpEmitter& e) {
  const int64_t ch = e.in_shape().back();
  e.comment("depth multiplier " + str(a.times) + ": each input channel repeated" + shapes(e));
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"rows", str(e.in_count() / ch)}, {"ch", str(ch)}, {"t", str(a.times)}},
           "kc::repeat_channels($in$, $out$, $rows$, $ch$, $t$);");
}

void emit_op(const ir::ConvTransposeAttrs& a, OpEmitter& e) {
  const ir::ConvGeom& g = a.geom;
  e.comment(str(g.out_c) + " filters, transposed, " + window(e, g, "kernel", true) + " (gather offsets " +
            pair(e, g.pad_top, g.pad_left) + ")" + (a.bias >= 0 ? ", bias" : ", no bias") + ", activation " +
            ir::describe(a.act) + shapes(e));
  Printer::Vars v = common(e, a.kernel, a.bias);
  v.insert(v.end(), {{"geom", conv_geom(g)}, {"act", act_functor(a.act, e.g.fp)}});
  e.p.emit(v, "kc::conv2d_transpose<$geom$, $bias$, $fused$>($in$, $w$, $b$, $out$, $act$);");
}

void emit_op(const ir::PoolAttrs& a, OpEmitter& e) {
  const bool max = a.kind == ir::PoolKind::Max;
  e.comment(std::string(max ? "max" : "average") + ", " + window(e, a.geom, "window", false) + shapes(e));
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"geom", conv_geom(a.geom)}, {"max", boolean(max)}},
           "kc::pool2d<$geom$, $max$>($in$, $out$);");
}

void emit_op(const ir::DepthTapsAttrs& a, OpEmitter& e) {
  e.comment("Conv3D's " + str(a.k_d) + " depth taps (stride " + str(a.stride_d) + ", dilation " + str(a.dil_d) +
            ", " + str(a.pad_front) + " padded before) as channels" + shapes(e));
  e.p.emit({{"in", e.in()},
            {"out", e.out()},
            {"d", str(a.in_d)},
            {"od", str(a.out_d)},
            {"plane", str(a.plane)},
            {"ch", str(a.channels)},
            {"kd", str(a.k_d)},
            {"sd", str(a.stride_d)},
            {"dd", str(a.dil_d)},
            {"pad", str(a.pad_front)}},
           "kc::depth_taps($in$, $out$, $d$, $od$, $plane$, $ch$, $kd$, $sd$, $dd$, $pad$);");
}

void emit_op(const ir::GlobalPoolAttrs& a, OpEmitter& e) {
  const bool max = a.kind == ir::PoolKind::Max;
  e.comment(std::string(max ? "max" : "average") + " over " + str(a.rows) + " positions" + shapes(e));
  e.p.emit({{"in", e.in()},
            {"out", e.out()},
            {"rows", str(a.rows)},
            {"ch", str(a.channels)},
            {"max", boolean(max)}},
           "kc::global_pool<$rows$, $ch$, $max$>($in$, $out$);");
}

}  // namespace kc2cpp::emit
