// Emitters of the embedding, normalization and shape ops (kernels: runtime_min/kc2cpp_kernels_shape.h).
#include <algorithm>
#include <cstdio>

#include "emit/hexfloat.h"
#include "emit/ops.h"

namespace kc2cpp::emit {
namespace {

std::string num(int64_t v) { return std::to_string(v); }
std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}
std::string flag(bool b) { return b ? "true" : "false"; }
std::string fused(const OpEmitter& e) { return flag(e.g.fp == ir::FpMode::Fused); }

// "kc::Dims4{{1, 5, 6, 3}}" from the attrs' per-axis values.
template <class T>
std::string dims(const char* type, const std::vector<T>& v) {
  std::string s = std::string("kc::") + type + "{{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}}";
}

// "(1, 2)" of the axes that change, for comments.
std::string list(const std::vector<int64_t>& v, size_t from) {
  std::string s = "(";
  for (size_t i = from; i < v.size(); ++i) s += (i > from ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

}  // namespace

void emit_op(const ir::EmbeddingAttrs& a, OpEmitter& e) {
  const bool integer = e.g.tensors[e.op.inputs[0]].dtype == ir::DType::I32;
  e.comment("input_dim " + num(a.input_dim) + ", output_dim " + num(a.output_dim) + ", " + num(e.in_count()) +
            (integer ? " int32 indices" : " float indices (truncated toward zero, as Keras casts them)") +
            "; an index outside [0, " + num(a.input_dim) + ") gives a row of zeros");
  e.p.emit({{"in", e.in()},
            {"table", e.weight(a.table)},
            {"out", e.out()},
            {"count", num(e.in_count())},
            {"n", num(a.input_dim)},
            {"dim", num(a.output_dim)}},
           "kc::embedding($in$, $table$, $out$, $count$, $n$, $dim$);");
}

void emit_op(const ir::BatchNormAttrs& a, OpEmitter& e) {
  e.comment(num(a.channels) + " channels, epsilon " + num(a.epsilon) + (a.gamma >= 0 ? ", scale" : ", no scale") +
            (a.beta >= 0 ? ", center" : ", no center") + ": y = x * scale[c] + shift[c]");
  e.p.emit({{"fused", fused(e)},
            {"in", e.in()},
            {"scale", e.weight(a.scale)},
            {"shift", e.weight(a.shift)},
            {"out", e.out()},
            {"outer", num(a.outer)},
            {"channels", num(a.channels)},
            {"inner", num(a.inner)}},
           "kc::batchnorm<$fused$>($in$, $scale$, $shift$, $out$, $outer$, $channels$, $inner$);");
}

void emit_op(const ir::LayerNormAttrs& a, OpEmitter& e) {
  const bool centered = a.form == ir::LayerNormForm::Centered;
  e.comment("over " + num(a.n) + " elements" + (a.inner > 1 ? " (stride " + num(a.inner) + ")" : "") + ", epsilon " +
            num(a.epsilon) + (a.gamma >= 0 ? ", scale" : ", no scale") + (a.beta >= 0 ? ", center" : ", no center") +
            (centered ? "; tf.keras fused form ((x - mean) * r) * gamma + beta" : "; x * inv + (beta - mean * inv)"));
  e.p.emit({{"fused", fused(e)},
            {"centered", flag(centered)},
            {"has_gamma", flag(a.gamma >= 0)},
            {"has_beta", flag(a.beta >= 0)},
            {"in", e.in()},
            {"gamma", a.gamma >= 0 ? e.weight(a.gamma) : "nullptr"},
            {"beta", a.beta >= 0 ? e.weight(a.beta) : "nullptr"},
            {"out", e.out()},
            {"outer", num(a.outer)},
            {"n", num(a.n)},
            {"inner", num(a.inner)},
            {"eps", hex_float(a.epsilon)}},
           "kc::layernorm<$fused$, $centered$, $has_gamma$, $has_beta$>($in$, $gamma$, $beta$, $out$, $outer$, $n$, "
           "$inner$, $eps$);");
}

void emit_op(const ir::PermuteAttrs& a, OpEmitter& e) {
  std::string perm = "(";
  for (size_t i = 0; i < a.perm.size(); ++i) perm += (i ? ", " : "") + std::to_string(a.perm[i] + 1);
  e.comment("dims " + perm + ") -> " + ir::to_string(e.out_shape()));
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"dims", dims("Dims6", a.dims)}, {"strides", dims("Dims6", a.strides)}},
           "kc::permute($in$, $out$, $dims$, $strides$);");
}

void emit_op(const ir::PadCropAttrs& a, OpEmitter& e) {
  size_t from = 0;
  while (from + 1 < a.in.size() && a.before[from] == 0 && a.after[from] == 0 && a.in[from] == 1) ++from;
  const bool crop = std::any_of(a.before.begin(), a.before.end(), [](int64_t v) { return v < 0; }) ||
                    std::any_of(a.after.begin(), a.after.end(), [](int64_t v) { return v < 0; });
  std::vector<int64_t> before = a.before, after = a.after;
  if (crop)
    for (size_t k = 0; k < before.size(); ++k) before[k] = -before[k], after[k] = -after[k];
  e.comment(std::string(crop ? "cropping" : "zero padding") + " per axis: before " + list(before, from) + ", after " +
            list(after, from) + " -> " + ir::to_string(e.out_shape()));
  e.p.emit({{"in", e.in()},
            {"out", e.out()},
            {"dims", dims("Dims4", a.in)},
            {"before", dims("Dims4", a.before)},
            {"after", dims("Dims4", a.after)}},
           "kc::pad_crop($in$, $out$, $dims$, $before$, $after$);");
}

void emit_op(const ir::RepeatAttrs& a, OpEmitter& e) {
  e.comment("nearest, factors " + list(a.factors, 0) + " -> " + ir::to_string(e.out_shape()));
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"dims", dims("Dims4", a.in)}, {"factors", dims("Dims4", a.factors)}},
           "kc::repeat($in$, $out$, $dims$, $factors$);");
}

namespace {

// "{{0, 1, 0x1p-2f}, {1, 2, 0x1.8p-1f}}": a tap table's initialiser.
std::string taps(const std::vector<ir::ResizeTap>& t) {
  std::string s = "{";
  for (size_t i = 0; i < t.size(); ++i)
    s += std::string(i ? ", " : "") + "{" + num(int64_t{t[i].lo}) + ", " + num(int64_t{t[i].hi}) + ", " + hex_float(t[i].w) + "}";
  return s + "}";
}

}  // namespace

// The taps are compile-time tables local to the call (constant-initialised: no static constructor).
void emit_op(const ir::ResizeAttrs& a, OpEmitter& e) {
  const bool nearest = a.method == ir::ResizeMethod::Nearest;
  e.comment(std::string(nearest ? "nearest" : "bilinear") + " (" + a.rule + "), (" + num(a.in_h) + ", " + num(a.in_w) +
            ") -> " + ir::to_string(e.out_shape()));
  e.p.line("{");
  {
    Printer::Indent indent(e.p);
    e.p.line("static constexpr kc::ResizeTap kRows[] = " + taps(a.rows) + ";");
    e.p.line("static constexpr kc::ResizeTap kCols[] = " + taps(a.cols) + ";");
    e.p.emit({{"kernel", nearest ? "kc::resize_nearest" : "kc::resize_bilinear<" + fused(e) + ">"},
              {"in", e.in()},
              {"out", e.out()},
              {"outer", num(a.outer)},
              {"h", num(a.in_h)},
              {"w", num(a.in_w)},
              {"inner", num(a.inner)},
              {"oh", num(static_cast<int64_t>(a.rows.size()))},
              {"ow", num(static_cast<int64_t>(a.cols.size()))}},
             "$kernel$($in$, $out$, $outer$, $h$, $w$, $inner$, kRows, $oh$, kCols, $ow$);");
  }
  e.p.line("}");
}

}  // namespace kc2cpp::emit
