// Emitters of the recurrent ops: SimpleRNN / LSTM / GRU and ConvLSTM (whole sequences in predict(),
// one timestep in step()) and Bidirectional's merge. Kernels: runtime_min/kc2cpp_kernels_recurrent.h.
#include <vector>

#include "emit/hexfloat.h"
#include "emit/ops.h"

namespace kc2cpp::emit {
namespace {

std::string b(bool v) { return v ? "true" : "false"; }

std::string describe(const ir::RnnAttrs& a, int64_t in) {
  std::string s = std::to_string(in) + " -> " + std::to_string(a.units) + " units; activation " + ir::describe(a.act);
  if (a.cell != ir::RnnCell::Simple) s += ", recurrent_activation " + ir::describe(a.rec_act);
  if (a.cell == ir::RnnCell::Gru) s += a.reset_after ? ", reset_after" : ", reset before the recurrent product";
  s += a.bias >= 0 ? ", bias" : ", no bias";
  s += "; x*W " + std::to_string(a.x_splits) + " and h*U " + std::to_string(a.h_splits) + " accumulator split(s)";
  return s;
}

// "kc::lstm_cell<...>(kernel, recurrent kernel, bias, act, recurrent act)": the cell object.
std::string cell(const ir::RnnAttrs& a, OpEmitter& e, int64_t in) {
  std::string tmpl = std::to_string(in) + ", " + std::to_string(a.units) + ", " + std::to_string(a.x_splits) + ", " +
                     std::to_string(a.h_splits) + ", " + b(a.bias >= 0);
  if (a.cell == ir::RnnCell::Gru) tmpl += ", " + b(a.reset_after);
  tmpl += ", " + b(e.g.fp == ir::FpMode::Fused);
  const char* fn = a.cell == ir::RnnCell::Simple ? "simple_rnn_cell" : a.cell == ir::RnnCell::Lstm ? "lstm_cell" : "gru_cell";
  return "kc::" + std::string(fn) + "<" + tmpl + ">(" + e.weight(a.kernel) + ", " + e.weight(a.recurrent) + ", " +
         (a.bias >= 0 ? e.weight(a.bias) : "nullptr") + ", " + act_functor(a.act, e.g.fp) + ", " +
         act_functor(a.rec_act, e.g.fp) + ")";
}

}  // namespace

void emit_op(const ir::RnnAttrs& a, OpEmitter& e) {
  const bool lstm = a.cell == ir::RnnCell::Lstm;
  if (a.step) {  // inputs {x_t, h (, c) (, mask)}, outputs {h' (, c'), scratch}: one timestep, state in place
    const int64_t in = e.in_count(0);
    e.comment("one timestep, " + describe(a, in) + (a.masked ? "; a masked timestep leaves the state" : ""));
    e.p.emit({{"cell", cell(a, e, in)},
              {"x", e.in(0)},
              {"h", e.in(1)},
              {"c", lstm ? e.in(2) : "nullptr"},
              {"m", a.masked ? e.in(e.op.inputs.size() - 1) : ""},
              {"h_out", e.out(0)},
              {"c_out", lstm ? e.out(1) : "nullptr"},
              {"scratch", e.out(lstm ? 2 : 1)}},
             a.masked ? "kc::rnn_step_masked($cell$, $x$, $h$, $c$, $m$, $h_out$, $c_out$, $scratch$);"
                      : "$cell$($x$, $h$, $c$, $h_out$, $c_out$, $scratch$);");
    return;
  }
  const ir::Shape s = e.in_shape();
  std::string order = a.go_backwards ? "backwards (go_backwards)" : "forwards";
  if (a.return_sequences)
    order += a.reverse_output ? ", returns the sequence flipped back to input order" : ", returns the sequence";
  else
    order += ", returns the last h";
  if (a.masked)
    order += std::string("; skips masked timesteps") +
             (a.return_sequences ? (a.zero_masked_output ? " (their rows zero)" : " (their rows repeat h)") : "");
  if (a.return_state) order += std::string(", and the last h") + (lstm ? " and c" : "") + " (return_state)";
  e.comment(std::to_string(s[0]) + " timesteps " + order + "; " + describe(a, s[1]));
  e.p.emit({{"T", std::to_string(s[0])},
            {"seq", b(a.return_sequences)},
            {"back", b(a.go_backwards)},
            {"rev", b(a.reverse_output)},
            {"zero", b(a.zero_masked_output)},
            {"cell", cell(a, e, s[1])},
            {"in", e.in()},
            {"m", a.masked ? e.in(1) : ""},
            {"out", e.out(0)},
            {"scratch", e.out(e.op.outputs.size() - 1)}},
           a.masked ? "kc::rnn_sequence_masked<$T$, $seq$, $back$, $rev$, $zero$>($cell$, $in$, $m$, $out$, $scratch$);"
                    : "kc::rnn_sequence<$T$, $seq$, $back$, $rev$>($cell$, $in$, $out$, $scratch$);");
  if (!a.return_state) return;
  e.p.emit({{"cell", cell(a, e, s[1])},
            {"scratch", e.out(e.op.outputs.size() - 1)},
            {"h", e.out(1)},
            {"c", lstm ? e.out(2) : "nullptr"}},
           "kc::rnn_last_state<decltype($cell$)>($scratch$, $h$, $c$);");
}

namespace {

// "kc::FrameConv<Geom, bias, fused, KD, D, OD, SD, DD, PD>": one frame's convolution of a ConvLSTM.
std::string frame_conv(const ir::ConvAttrs& c, bool volume, const ir::DepthTapsAttrs& t, ir::FpMode fp) {
  std::string s = "kc::FrameConv<" + conv_geom(c.geom) + ", " + b(c.bias >= 0) + ", " + b(fp == ir::FpMode::Fused);
  const std::vector<int64_t> depth = volume ? std::vector<int64_t>{t.k_d, t.in_d, t.out_d, t.stride_d, t.dil_d, t.pad_front}
                                            : std::vector<int64_t>{0, 1, 1, 1, 1, 0};
  for (int64_t v : depth) s += ", " + std::to_string(v);
  return s + ">";
}

// The block's first lines: the two convolutions' types, then `cell`, the cell object.
const char* kConvLstmCell = R"cc(
  using XConv = $xconv$;  // x_t -> zx (+ bias): 4 gates x $f$ filters
  using HConv = $hconv$;  // h -> zh: padding same, strides 1
  const auto cell = kc::conv_lstm_cell<XConv, HConv, $p$, $f$>($w$, $b$, $rw$, $act$, $ract$);
)cc";

Printer::Vars conv_lstm_vars(const ir::ConvLstmAttrs& a, OpEmitter& e) {
  return {{"xconv", frame_conv(a.input, a.volume, a.input_taps, e.g.fp)},
          {"hconv", frame_conv(a.recurrent, a.volume, a.recurrent_taps, e.g.fp)},
          {"p", std::to_string(ir::conv_lstm_pixels(a))},
          {"f", std::to_string(a.filters)},
          {"w", e.weight(a.input.kernel)},
          {"b", a.input.bias >= 0 ? e.weight(a.input.bias) : "nullptr"},
          {"rw", e.weight(a.recurrent.kernel)},
          {"act", act_functor(a.act, e.g.fp)},
          {"ract", act_functor(a.rec_act, e.g.fp)}};
}

std::string describe(const ir::ConvLstmAttrs& a) {
  const ir::ConvGeom& g = a.input.geom;
  std::string s = std::to_string(a.filters) + " filters on " + std::to_string(ir::conv_lstm_pixels(a)) +
                  " pixels; input kernel " + std::to_string(g.k_h) + "x" + std::to_string(g.k_w) + ", strides " +
                  std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + ", dilation " +
                  std::to_string(g.dil_h) + "x" + std::to_string(g.dil_w) + ", padding " + g.padding;
  if (a.volume) s += " (depth: " + std::to_string(a.input_taps.k_d) + " taps)";
  s += a.input.bias >= 0 ? ", bias" : ", no bias";
  return s + "; activation " + ir::describe(a.act) + ", recurrent_activation " + ir::describe(a.rec_act);
}

}  // namespace

void emit_op(const ir::ConvLstmAttrs& a, OpEmitter& e) {
  Printer::Vars v = conv_lstm_vars(a, e);
  if (a.step) {  // inputs {x_t, h, c}, outputs {h', c', scratch}: one timestep, state in place
    e.comment("ConvLSTM, one timestep, " + describe(a));
    v.insert(v.end(), {{"x", e.in(0)}, {"h", e.in(1)}, {"c", e.in(2)}, {"h_out", e.out(0)}, {"c_out", e.out(1)},
                       {"scratch", e.out(2)}});
    e.p.line("{");
    {
      Printer::Indent in(e.p);
      e.p.emit(v, kConvLstmCell);
      e.p.emit(v, "cell($x$, $h$, $c$, $h_out$, $c_out$, $scratch$);");
    }
    e.p.line("}");
    return;
  }
  const int64_t steps = e.in_shape()[0];
  std::string order = a.go_backwards ? "backwards (go_backwards)" : "forwards";
  order += a.return_sequences ? ", returns the sequence" : ", returns the last h";
  if (a.return_state) order += ", and the last h and c (return_state)";
  e.comment("ConvLSTM, " + std::to_string(steps) + " timesteps " + order + "; " + describe(a));
  v.insert(v.end(), {{"T", std::to_string(steps)},
                     {"frame", std::to_string(e.in_count() / steps)},
                     {"seq", b(a.return_sequences)},
                     {"back", b(a.go_backwards)},
                     {"floats", std::to_string(ir::conv_lstm_scratch_floats(a))},
                     {"in", e.in()},
                     {"out", e.out(0)},
                     {"h", a.return_state ? e.out(1) : "nullptr"},
                     {"c", a.return_state ? e.out(2) : "nullptr"},
                     {"scratch", e.out(e.op.outputs.size() - 1)}});
  e.p.line("{");
  {
    Printer::Indent in(e.p);
    e.p.emit(v, kConvLstmCell);
    e.p.emit(v, "kc::conv_lstm_sequence<$T$, $frame$, $seq$, $back$, $floats$>(cell, $in$, $out$, $h$, $c$, $scratch$);");
  }
  e.p.line("}");
}

void emit_op(const ir::MaskAttrs& m, OpEmitter& e) {
  const bool compute = m.form == ir::MaskForm::Compute;
  const int64_t steps = e.in_count() / m.features;
  e.comment(std::string(compute ? "mask" : "x * mask") + ", mask = any(x != " + hex_float(m.value) + ") over the " +
            std::to_string(m.features) + (m.features == 1 ? " feature" : " features") + " of each of " +
            std::to_string(steps) + (steps == 1 ? " timestep" : " timesteps"));
  e.p.emit({{"kernel", compute ? "kc::mask_compute" : "kc::mask_apply"},
            {"in", e.in()},
            {"out", e.out()},
            {"steps", std::to_string(steps)},
            {"features", std::to_string(m.features)},
            {"value", hex_float(m.value)}},
           "$kernel$($in$, $out$, $steps$, $features$, $value$);");
}

void emit_op(const ir::BidirMergeAttrs& m, OpEmitter& e) {
  const int64_t n = e.in_count(0), u = e.in_shape(0).back();
  e.comment(std::string("merge_mode ") + ir::to_string(m.mode) + " of the forward and the backward output");
  if (m.mode == ir::MergeMode::Concat) {
    e.p.emit({{"a", e.in(0)}, {"b", e.in(1)}, {"out", e.out()}, {"rows", std::to_string(n / u)}, {"u", std::to_string(u)}},
             "kc::bidir_concat($a$, $b$, $out$, $rows$, $u$);");
    return;
  }
  const char* mode = m.mode == ir::MergeMode::Sum ? "0" : m.mode == ir::MergeMode::Ave ? "1" : "2";
  e.p.emit({{"mode", mode}, {"a", e.in(0)}, {"b", e.in(1)}, {"out", e.out()}, {"n", std::to_string(n)}},
           "kc::bidir_merge<$mode$>($a$, $b$, $out$, $n$);");
}

}  // namespace kc2cpp::emit
