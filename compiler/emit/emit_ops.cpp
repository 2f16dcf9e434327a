#include <variant>

#include "emit/emit.h"
#include "emit/hexfloat.h"
#include "emit/ops.h"

namespace kc2cpp::emit {

std::string OpEmitter::ptr(int tensor) const {
  const plan::Location& l = plan.where[tensor];
  std::string p = l.kind == plan::Location::Input   ? "input" + std::to_string(l.index)
                  : l.kind == plan::Location::State ? "state.v + " + std::to_string(l.index)
                                                    : "arena + " + std::to_string(l.index);
  if (op.slices > 1) p += " + slice * " + std::to_string(ir::num_elements(g.tensors[tensor].shape) / op.slices);
  return p;
}

std::string OpEmitter::weight(int w) const { return weight_identifier(names_, g, w); }

void OpEmitter::comment(const std::string& what) {
  std::string c = "// " + comment_safe(op.name) + " (" + op.keras_class + "): " + what;
  for (const std::string& f : op.fused) c += "; + " + comment_safe(f);
  p.line(c);
}

std::string act_functor(const ir::Activation& a, ir::FpMode fp) {
  using K = ir::ActKind;
  auto f = [](float v) { return v == std::numeric_limits<float>::infinity() ? std::string("kc::kInf") : hex_float(v); };
  const std::string mode = fp == ir::FpMode::Fused ? "<true>" : "<false>";
  switch (a.kind) {
    case K::Linear: return "kc::act::Linear{}";
    case K::Relu:
      return a.is_plain_relu() ? "kc::act::ReluPlain{}" : "kc::act::Relu{" + f(a.a) + ", " + f(a.b) + ", " + f(a.c) + "}";
    case K::Elu: return "kc::act::Elu" + mode + "{" + f(a.a) + "}";
    case K::Selu: return "kc::act::Selu" + mode + "{}";
    case K::Sigmoid: return "kc::act::Sigmoid" + mode + "{}";
    case K::HardSigmoidK2: return "kc::act::HardSigmoidK2{}";
    case K::HardSigmoidK3: return "kc::act::HardSigmoidK3{}";
    case K::HardSilu: return "kc::act::HardSilu{}";
    case K::Tanh: return "kc::act::Tanh" + mode + "{}";
    case K::Softplus: return "kc::act::Softplus" + mode + "{}";
    case K::Softsign: return "kc::act::Softsign{}";
    case K::Exponential: return "kc::act::Exponential" + mode + "{}";
    case K::Silu: return "kc::act::Silu" + mode + "{}";
    case K::GeluExact: return "kc::act::Gelu" + mode + "{}";
    case K::GeluTanh: return "kc::act::GeluTanh" + mode + "{}";
    case K::Mish: return "kc::act::Mish" + mode + "{}";
  }
  return "";
}

void emit_ops(Printer& p, const ir::Graph& g, const plan::Plan& plan, NameTable& names) {
  for (const ir::Op& op : g.ops) {
    OpEmitter e(p, g, plan, names, op);
    if (op.slices > 1 && !std::holds_alternative<ir::ReshapeAttrs>(op.attrs)) {  // TimeDistributed
      p.line("for (int slice = 0; slice < " + std::to_string(op.slices) + "; ++slice) {  // each timestep alone");
      {
        Printer::Indent indent(p);
        std::visit([&](const auto& a) { emit_op(a, e); }, op.attrs);
      }
      p.line("}  // slice");
      continue;
    }
    std::visit([&](const auto& a) { emit_op(a, e); }, op.attrs);
  }
}

}  // namespace kc2cpp::emit
