// The generated file, top to bottom (its fixed parts are templates/, filled by `fill`):
//   banner; runtime_min/kc2cpp_isa.h (includes, ISA choice, fp-contract off, -ffast-math refused);
//   the API (inline, or #include of the --header file);
//   namespace <ns> { namespace kc { simd, math, kernels } ; weights ; predict ; predict_batch ; isa
//   ; recurrent models: reset ; step (plan/step.h) }
#include "emit/emit.h"

#include <algorithm>
#include <variant>

#include "emit/embedded.h"
#include "emit/hexfloat.h"
#include "emit/naming.h"
#include "emit/printer.h"
#include "error.h"
#include "plan/step.h"


namespace kc2cpp::emit {
namespace {

// Pasted runtime sources sit between these markers (golden tests cut them out).
void runtime(Printer& p, const embedded::File& f) {
  p.line(std::string("// ---- begin runtime_min/") + f.name + " ----");
  p.raw(f.text);
  p.line(std::string("// ---- end runtime_min/") + f.name + " ----");
}

// Section `section` of templates/<file>, filled with `vars`.
void fill(Printer& p, const char* file, const char* section, const Printer::Vars& vars = {}) {
  p.emit(vars, embedded::template_section(file, section));
}

void banner(Printer& p, const ir::Graph& g, const plan::Plan& plan, const Options& opt) {
  fill(p, "banner.in", "banner",
       {{"src", comment_safe(opt.source_name)},
          {"model", comment_safe(g.name)},
          {"keras", g.keras_version.empty() ? "unknown" : g.keras_version},
          {"backend", g.backend.empty() ? "unknown" : g.backend},
          {"ops", std::to_string(g.ops.size())},
          {"arena", std::to_string(plan.arena_floats * 4)},
          {"fp", g.fp == ir::FpMode::Fused ? "fused multiply-add (--fp fused): needs a hardware FMA"
                                           : "multiply, then add, each rounded (--fp unfused)"}});
}

// "const float* input0, " or, for integer inputs (Embedding indices), "const int32_t* input0, ".
std::string input_param(const ir::Graph& g, size_t k) {
  const bool integer = g.tensors[g.inputs[k]].dtype == ir::DType::I32;
  return std::string(integer ? "const int32_t* input" : "const float* input") + std::to_string(k) + ", ";
}

// Recurrent models: the streaming API's declarations (plan/step.h says which models get it), or a
// comment saying why this one has none.
void state_api(Printer& p, const plan::Plan& plan) {
  if (!plan.step) return;
  const plan::StepPlan& sp = *plan.step;
  p.blank();
  if (!sp.why_not.empty()) {
    fill(p, "api.h.in", "no_state", {{"why", comment_safe(sp.why_not)}});
    return;
  }
  const ir::Graph& s = sp.graph;
  std::string slots;
  for (const plan::StateSlot& sl : sp.slots)
    slots += (slots.empty() ? "" : ", ") + comment_safe(sl.layer) + " " + sl.what + " [" + std::to_string(sl.offset) +
             ", " + std::to_string(sl.offset + sl.floats) + ")";
  fill(p, "api.h.in", "state",
       {{"T", std::to_string(sp.sequence_length)},
          {"in", std::to_string(ir::num_elements(s.tensors[s.inputs[0]].shape))},
          {"out", std::to_string(ir::num_elements(s.tensors[s.outputs[0]].shape))},
          {"state", std::to_string(sp.state_floats)},
          {"slots", slots},
          {"y", sp.output_per_timestep ? "row t of predict()'s output" : "predict()'s output for the sequence x_0..x_t"},
          {"input", input_param(s, 0)}});
}

void api(Printer& p, const ir::Graph& g, const plan::Plan& plan) {
  fill(p, "api.h.in", "counts", {{"ni", std::to_string(g.inputs.size())}, {"no", std::to_string(g.outputs.size())}});
  auto shapes = [&](const char* kind, const std::vector<int>& ts) {
    std::string sizes;
    for (size_t k = 0; k < ts.size(); ++k) {
      const ir::Tensor& t = g.tensors[ts[k]];
      std::string dims;
      for (int64_t d : t.shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
      fill(p, "api.h.in", "tensor",
           {{"kind", kind},
              {"k", std::to_string(k)},
              {"n", std::to_string(ir::num_elements(t.shape))},
              {"dims", dims},
              {"name", comment_safe(t.name)},
              {"type", t.dtype == ir::DType::I32 ? "int32_t" : "float"},
              {"shape", ir::to_string(t.shape)}});
      sizes += (k ? ", " : "") + std::to_string(ir::num_elements(t.shape));
    }
    fill(p, "api.h.in", "sizes", {{"kind", kind}, {"sizes", sizes}});
  };
  shapes("Input", g.inputs);
  shapes("Output", g.outputs);
  std::string params;
  for (size_t k = 0; k < g.inputs.size(); ++k) params += input_param(g, k);
  for (size_t k = 0; k < g.outputs.size(); ++k) params += "float* output" + std::to_string(k) + ", ";
  const int64_t step_arena = plan.step && plan.step->why_not.empty() ? plan.step->plan.arena_floats : 0;
  fill(p, "api.h.in", "workspace", {{"arena", std::to_string(std::max(plan.arena_floats, step_arena))}, {"params", params}});
  state_api(p, plan);
}

// One weight array. Rows of PackedWeight::row floats end in KC2CPP_ROWPAD_<row mod 16>, which pads
// them to kc::kWPad (runtime_min/kc2cpp_kernels.h); rows of a multiple of 16 need no padding anywhere.
void weight_array(Printer& p, const plan::PackedWeight& pw, const std::string& id, const std::string& note) {
  const int64_t n = static_cast<int64_t>(pw.data.size());
  const int64_t rem = pw.row > 0 ? pw.row % 16 : 0;
  std::string layout = pw.layout;
  if (rem != 0) layout += ", rows of " + std::to_string(pw.row) + " padded to kc::kWPad";
  p.blank();
  p.line("// " + comment_safe(pw.name) + ": " + layout + note);
  const std::string size = rem == 0 ? std::to_string(n)
                                    : std::to_string(n / pw.row) + " * kc::row_floats(" + std::to_string(pw.row) +
                                          ") + kc::kWSlack";
  p.line("alignas(kc::kWeightAlign) constexpr float " + id + "[" + size + "] = {");
  {
    Printer::Indent indent(p);
    // 8 values a line; a padded row starts a line and ends with its padding macro
    const int64_t row = rem != 0 ? pw.row : n;
    std::string line;
    for (int64_t i = 0; i < n; ++i) {
      line += hex_float(pw.data[static_cast<size_t>(i)]) + ",";
      const bool row_end = (i + 1) % row == 0;
      if (rem != 0 && row_end) line += " KC2CPP_ROWPAD_" + std::to_string(rem);
      if ((i % row) % 8 == 7 || row_end) {
        p.line(line);
        line.clear();
      } else {
        line += ' ';
      }
    }
  }
  p.line("};");
}

void weights(Printer& p, const ir::Graph& g, const plan::Plan& plan, NameTable& names) {
  p.line("namespace {");
  for (size_t w = 0; w < g.weights.size(); ++w) {
    const int slot = plan.weight_slot[w];
    if (slot < 0) continue;
    weight_array(p, plan.weights[slot], weight_identifier(names, g, static_cast<int>(w)), "");
  }
  p.line("}  // namespace");
}

void predict(Printer& p, const ir::Graph& g, const plan::Plan& plan, NameTable& names) {
  std::string params, batch_args;
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const std::string i = std::to_string(k);
    params += input_param(g, k);
    batch_args += "input" + i + " + s * kInput" + i + "Size, ";
  }
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    const std::string i = std::to_string(k);
    params += "float* output" + i + ", ";
    batch_args += "output" + i + " + s * kOutput" + i + "Size, ";
  }
  fill(p, "source.cpp.in", "predict_begin", {{"params", params}});
  {
    Printer::Indent indent(p);
    emit_ops(p, g, plan, names);
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      const int t = g.outputs[k];
      const plan::Location& l = plan.where[t];
      const std::string src = l.kind == plan::Location::Input ? "input" + std::to_string(l.index)
                                                              : "arena + " + std::to_string(l.index);
      p.line("kc::copy_out(" + src + ", output" + std::to_string(k) + ", kOutput" + std::to_string(k) + "Size);");
    }
  }
  fill(p, "source.cpp.in", "predict_end", {{"params", params}, {"batch_args", batch_args}});
}

// Weights only step() reads (plan/step.h adds a few, e.g. a PReLU alpha for one timestep).
void step_weights(Printer& p, const plan::Plan& plan, NameTable& names) {
  if (!plan.step || !plan.step->why_not.empty()) return;
  const plan::StepPlan& sp = *plan.step;
  bool open = false;
  for (size_t w = 0; w < sp.graph.weights.size(); ++w) {
    const int slot = sp.plan.weight_slot[w];
    if (slot < 0) continue;
    const plan::PackedWeight& pw = sp.plan.weights[slot];
    if (w < plan.weight_slot.size() && plan.weight_slot[w] >= 0) {
      const plan::PackedWeight& other = plan.weights[plan.weight_slot[w]];
      if (other.data != pw.data || other.row != pw.row)  // one emitted array serves both
        throw Error("internal: weight '" + pw.name + "' is packed differently for predict() and step()");
      continue;
    }
    if (!open) p.line("namespace {"), open = true;
    weight_array(p, pw, weight_identifier(names, sp.graph, static_cast<int>(w)), " (step() only)");
  }
  if (open) p.line("}  // namespace");
}

// reset() and step(): the one-timestep graph of plan/step.h, emitted like predict()'s.
void step_function(Printer& p, const plan::Plan& plan, NameTable& names) {
  if (!plan.step || !plan.step->why_not.empty()) return;
  const plan::StepPlan& sp = *plan.step;
  const ir::Graph& s = sp.graph;
  p.blank();
  fill(p, "source.cpp.in", "step_begin", {{"input", input_param(s, 0)}});
  {
    Printer::Indent indent(p);
    emit_ops(p, s, sp.plan, names);
    const plan::Location& l = sp.plan.where[s.outputs[0]];
    const std::string src = l.kind == plan::Location::Input   ? "input" + std::to_string(l.index)
                            : l.kind == plan::Location::State ? "state.v + " + std::to_string(l.index)
                                                              : "arena + " + std::to_string(l.index);
    p.line("kc::copy_out(" + src + ", output0, kStepOutputSize);");
  }
  fill(p, "source.cpp.in", "step_end");
}

}  // namespace

std::string weight_identifier(NameTable& names, const ir::Graph& g, int weight) {
  return names.get("w_", g.weights[weight].name);
}

Output emit(const ir::Graph& g, const plan::Plan& plan, const Options& opt) {
  Output out;
  Printer p;
  banner(p, g, plan, opt);
  p.blank();
  runtime(p, embedded::kPrelude);
  // --fp fused without a hardware FMA: one #error, and the rest of the file is skipped (no cascade).
  const bool fused = g.fp == ir::FpMode::Fused;
  if (fused)
    fill(p, "source.cpp.in", "fma_guard");
  p.blank();
  if (!opt.header_name.empty()) {
    p.line("#include \"" + opt.header_name + "\"");
    Printer h;
    banner(h, g, plan, opt);
    fill(h, "header.h.in", "begin", {{"ns", opt.ns}});
    api(h, g, plan);
    fill(h, "header.h.in", "end", {{"ns", opt.ns}});
    out.header = h.str();
    p.blank();
    p.line("namespace " + opt.ns + " {");
  } else {
    p.line("namespace " + opt.ns + " {");
    p.blank();
    api(p, g, plan);
  }
  p.blank();
  p.line("namespace kc {");
  for (int i = 0; i < embedded::kBodyCount; ++i) runtime(p, embedded::kBody[i]);
  p.line("}  // namespace kc");
  p.blank();
  NameTable names;
  weights(p, g, plan, names);
  step_weights(p, plan, names);
  p.blank();
  predict(p, g, plan, names);
  step_function(p, plan, names);
  p.blank();
  p.line("}  // namespace " + opt.ns);
  if (fused) fill(p, "source.cpp.in", "fma_guard_end");
  out.source = p.str();
  return out;
}

}  // namespace kc2cpp::emit
