// Emitters of the merge family (ops reading several tensors). Kernels:
// runtime_min/kc2cpp_kernels_merge.h.
#include "emit/hexfloat.h"
#include "emit/ops.h"

namespace kc2cpp::emit {
namespace {

std::string list(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

// kc::Broadcast<R>{dims, sa, sb} for y[out] = op(a[sa], b[sb]) under numpy broadcasting: axes of
// extent 1 dropped, neighbouring axes merged where both operands step through them contiguously.
std::string broadcast(const ir::Shape& out, const ir::Shape& a, const ir::Shape& b) {
  struct Axis {
    int64_t extent, sa, sb;
  };
  auto strides = [&](const ir::Shape& in) {
    std::vector<int64_t> st(out.size(), 0);
    int64_t s = 1;
    for (size_t d = out.size(); d-- > 0;) {
      const size_t lead = out.size() - in.size();
      const int64_t extent = d >= lead ? in[d - lead] : 1;
      st[d] = extent == 1 ? 0 : s;
      s *= extent;
    }
    return st;
  };
  const std::vector<int64_t> sa = strides(a), sb = strides(b);
  std::vector<Axis> axes;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    if (!axes.empty() && axes.back().sa == sa[d] * out[d] && axes.back().sb == sb[d] * out[d])
      axes.back() = {axes.back().extent * out[d], sa[d], sb[d]};
    else
      axes.push_back({out[d], sa[d], sb[d]});
  }
  if (axes.empty()) axes.push_back({1, 0, 0});
  std::vector<int64_t> dims, as, bs;
  for (const Axis& x : axes) dims.push_back(x.extent), as.push_back(x.sa), bs.push_back(x.sb);
  return "kc::Broadcast<" + std::to_string(axes.size()) + ">{{" + list(dims) + "}, {" + list(as) + "}, {" + list(bs) + "}}";
}

const char* functor(ir::MergeKind k) {
  using K = ir::MergeKind;
  switch (k) {
    case K::Add: case K::Average: return "kc::merge::Add{}";
    case K::Subtract: return "kc::merge::Sub{}";
    case K::Multiply: return "kc::merge::Mul{}";
    case K::Divide: return "kc::merge::Div{}";
    case K::Maximum: return "kc::merge::Max{}";
    case K::Minimum: return "kc::merge::Min{}";
  }
  return "";
}

}  // namespace

void emit_op(const ir::MergeAttrs& m, OpEmitter& e) {
  std::string shapes;
  for (size_t k = 0; k < e.op.inputs.size(); ++k) shapes += (k ? ", " : "") + ir::to_string(e.in_shape(k));
  const ir::Shape out = e.out_shape();
  e.comment(std::string(ir::to_string(m.kind)) + " of " + shapes + " -> " + ir::to_string(out) + ", left to right" +
            (m.act.is_linear() ? "" : ", activation " + ir::describe(m.act)));
  // The activation runs in the last step's epilogue, except after Average's division.
  const bool act_last = !m.act.is_linear() && m.kind != ir::MergeKind::Average;
  for (size_t k = 1; k < e.op.inputs.size(); ++k)
    e.p.emit({{"a", k == 1 ? e.in(0) : e.out()},
              {"b", e.in(k)},
              {"out", e.out()},
              {"bc", broadcast(out, k == 1 ? e.in_shape(0) : out, e.in_shape(k))},
              {"op", functor(m.kind)},
              {"act", act_last && k + 1 == e.op.inputs.size() ? ", " + act_functor(m.act, e.g.fp) : ""}},
             "kc::merge2($a$, $b$, $out$, $bc$, $op$$act$);");
  const std::string n = std::to_string(ir::num_elements(out));
  if (m.kind == ir::MergeKind::Average)
    e.p.emit({{"out", e.out()}, {"n", n}, {"d", hex_float(static_cast<float>(e.op.inputs.size()))}},
             "kc::divide($out$, $n$, $d$);");
  if (!m.act.is_linear() && !act_last)
    e.p.emit({{"out", e.out()}, {"n", n}, {"act", act_functor(m.act, e.g.fp)}}, "kc::map($out$, $out$, $n$, $act$);");
}

void emit_op(const ir::ScalarOpAttrs& s, OpEmitter& e) {
  const std::string c = hex_float(s.c);
  const std::string name = ir::to_string(s.kind);
  e.comment(s.c_first ? name + "(" + c + ", x)" : name + "(x, " + c + ")");
  e.p.emit({{"in", e.in()},
            {"out", e.out()},
            {"n", std::to_string(e.in_count())},
            {"op", functor(s.kind)},
            {"first", s.c_first ? "true" : "false"},
            {"c", c}},
           "kc::map($in$, $out$, $n$, kc::merge::WithNumber<decltype($op$), $first$>{$c$});");
}

void emit_op(const ir::ConcatAttrs& c, OpEmitter& e) {
  const ir::Shape out = e.out_shape();
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < c.axis; ++d) outer *= out[d];
  for (size_t d = static_cast<size_t>(c.axis) + 1; d < out.size(); ++d) inner *= out[d];
  e.comment("concatenate " + std::to_string(e.op.inputs.size()) + " tensors on axis " + std::to_string(c.axis + 1) +
            " -> " + ir::to_string(out));
  int64_t at = 0;
  const plan::Location& y = e.plan.where[e.op.outputs[0]];
  for (size_t k = 0; k < e.op.inputs.size(); ++k) {
    const int64_t n = e.in_shape(k)[c.axis] * inner;
    const plan::Location& x = e.plan.where[e.op.inputs[k]];
    if (x.kind == plan::Location::Arena && y.kind == plan::Location::Arena && x.index == y.index + at) {
      e.p.line("// input " + std::to_string(k) + " (" + comment_safe(e.g.tensors[e.op.inputs[k]].name) +
               ") was written in place by its producer");
      at += n;
      continue;
    }
    e.p.emit({{"in", e.in(k)},
              {"out", e.out() + (at ? " + " + std::to_string(at) : "")},
              {"count", std::to_string(outer)},
              {"n", std::to_string(n)},
              {"ld", std::to_string(out[c.axis] * inner)}},
             "kc::copy_blocks($in$, $out$, $count$, $n$, $ld$);");
    at += n;
  }
}

void emit_op(const ir::MatMulAttrs& m, OpEmitter& e) {
  e.comment("y[i, j] = sum_k a[i, k] b[j, k]: [" + std::to_string(m.m) + "][" + std::to_string(m.k) + "] x [" +
            std::to_string(m.n) + "][" + std::to_string(m.k) + "], " + std::to_string(m.splits) + " accumulator split(s)" +
            (m.batch > 1 ? ", " + std::to_string(m.batch) + " times" : ""));
  e.p.emit({{"M", std::to_string(m.m)},
            {"K", std::to_string(m.k)},
            {"N", std::to_string(m.n)},
            {"S", std::to_string(m.splits)},
            {"B", m.batch > 1 ? ", " + std::to_string(m.batch) : ""},
            {"fused", e.g.fp == ir::FpMode::Fused ? "true" : "false"},
            {"a", e.in(0)},
            {"b", e.in(1)},
            {"out", e.out()}},
           "kc::matmul_nt<$M$, $K$, $N$, $S$, $fused$$B$>($a$, $b$, $out$);");
}

void emit_op(const ir::L2NormalizeAttrs& a, OpEmitter& e) {
  e.comment("L2-normalise rows of " + std::to_string(a.n) + ": x / sqrt(max(sum x^2, " + hex_float(a.floor) + "))");
  e.p.emit({{"fused", e.g.fp == ir::FpMode::Fused ? "true" : "false"},
            {"in", e.in()},
            {"out", e.out()},
            {"rows", std::to_string(a.rows)},
            {"n", std::to_string(a.n)},
            {"floor", hex_float(a.floor)}},
           "kc::l2_normalize<$fused$>($in$, $out$, $rows$, $n$, $floor$);");
}

}  // namespace kc2cpp::emit
