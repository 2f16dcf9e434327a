// Emitters of the core ops: Dense, elementwise activations, Softmax, PReLU, views.
#include "emit/hexfloat.h"
#include "emit/ops.h"

namespace kc2cpp::emit {

void emit_op(const ir::DenseAttrs& d, OpEmitter& e) {
  const int64_t k = e.in_shape().back();
  const int64_t rows = e.in_count() / k;
  e.comment(std::to_string(k) + " -> " + std::to_string(d.units) + (d.bias >= 0 ? ", bias" : ", no bias") +
            ", activation " + ir::describe(d.act) + ", " + std::to_string(d.splits) + " accumulator split(s)" +
            (rows > 1 ? ", over " + std::to_string(rows) + " rows" : ""));
  e.p.emit({{"K", std::to_string(k)},
            {"N", std::to_string(d.units)},
            {"S", std::to_string(d.splits)},
            {"bias", d.bias >= 0 ? "true" : "false"},
            {"fused", e.g.fp == ir::FpMode::Fused ? "true" : "false"},
            {"in", e.in()},
            {"w", e.weight(d.kernel)},
            {"b", d.bias >= 0 ? e.weight(d.bias) : "nullptr"},
            {"out", e.out()},
            {"rows", std::to_string(rows)},
            {"act", act_functor(d.act, e.g.fp)}},
           "kc::dense<$K$, $N$, $S$, $rows$, $bias$, $fused$>($in$, $w$, $b$, $out$, $act$);");
}

void emit_op(const ir::ActivationAttrs& a, OpEmitter& e) {
  e.comment(ir::describe(a.act));
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"n", std::to_string(e.in_count())}, {"act", act_functor(a.act, e.g.fp)}},
           "kc::map($in$, $out$, $n$, $act$);");
}

void emit_op(const ir::SoftmaxAttrs& a, OpEmitter& e) {
  const ir::Shape& s = e.in_shape();
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < a.axis; ++d) outer *= s[d];
  for (size_t d = static_cast<size_t>(a.axis) + 1; d < s.size(); ++d) inner *= s[d];
  e.comment(std::string(a.log ? "log_softmax" : "softmax") + " over axis " + std::to_string(a.axis + 1) +
            (a.causal_rows > 0 ? "; causal mask: score j of query row i gets -1e9 where j > i" : ""));
  std::string in = e.in();
  if (a.causal_rows > 0) {
    e.p.emit({{"in", in},
              {"out", e.out()},
              {"rows", std::to_string(outer / a.causal_rows)},
              {"tq", std::to_string(a.causal_rows)},
              {"len", std::to_string(s[a.axis])},
              {"add", hex_float(ir::kCausalMaskAdd)}},
             "kc::causal_mask_add($in$, $out$, $rows$, $tq$, $len$, $add$);");
    in = e.out();
  }
  e.p.emit({{"in", in},
            {"out", e.out()},
            {"outer", std::to_string(outer)},
            {"len", std::to_string(s[a.axis])},
            {"inner", std::to_string(inner)},
            {"log", a.log ? "true" : "false"}},
           "kc::softmax($in$, $out$, $outer$, $len$, $inner$, $log$);");
}

void emit_op(const ir::PReluAttrs& a, OpEmitter& e) {
  e.comment("x < 0 ? alpha * x : x");
  e.p.emit({{"in", e.in()}, {"out", e.out()}, {"alpha", e.weight(a.alpha)}, {"n", std::to_string(e.in_count())}},
           "kc::prelu($in$, $alpha$, $out$, $n$);");
}

void emit_op(const ir::ReshapeAttrs&, OpEmitter& e) {
  e.comment("view as " + ir::to_string(e.out_shape()) + ", no code");
}

void emit_op(const ir::IdentityAttrs&, OpEmitter& e) { e.comment("identity at inference, no code"); }

}  // namespace kc2cpp::emit
