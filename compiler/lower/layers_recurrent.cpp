// Recurrent layers: SimpleRNN, LSTM, GRU, RNN(cell), Bidirectional, TimeDistributed; Masking.
// The recurrent layers skip the timesteps a Keras mask on their input marks (ir/ops_recurrent.h).
#include <string>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

// The layer-level options (return_sequences, go_backwards, ...) live in `layer_cfg`; the cell's
// (units, activations, use_bias, reset_after) in `cell_cfg` - the same object except for RNN(cell).
struct RnnConfig {
  ir::RnnCell cell;
  const json* layer_cfg;
  const json* cell_cfg;
};

size_t weight_count(const RnnConfig& rc) { return get_bool(*rc.cell_cfg, "use_bias", true) ? 3 : 2; }

// state_ok: the layer is called on its own (not a Bidirectional half, not inside TimeDistributed),
// so return_state's extra outputs can be given.
void check_layer_options(const json& cfg, bool state_ok) {
  if (!state_ok && get_bool(cfg, "return_state", false))
    throw LayerProblem{"return_state=True is supported on SimpleRNN, LSTM, GRU and RNN called on their own, not in "
                       "Bidirectional or TimeDistributed; return the output only (the generated code's State/step() "
                       "API exposes the state)"};
  if (get_bool(cfg, "time_major", false))
    throw LayerProblem{"time_major=True is not supported; rebuild the layer batch-major (the default)"};
}

ir::Activation rnn_activation(const json& cfg, const char* key, const char* fallback, int keras_major) {
  auto it = cfg.find(key);
  const ParsedActivation p = parse_activation(it == cfg.end() ? json(fallback) : *it, keras_major);
  if (p.softmax || p.log_softmax)
    throw LayerProblem{std::string(key) + " softmax/log_softmax (a normalisation across units) is not supported in "
                       "recurrent layers; use an elementwise activation"};
  return p.act;
}

// A name of the form "<layer>[/<part>]/<keras short name>" that no other weight of the model has.
int add_weight(Context& cx, const Layer& layer, const std::string& part, const load::NamedArray& a) {
  std::string s = a.name.substr(a.name.find_last_of('/') + 1);
  s = s.substr(0, s.find(':'));
  ir::Weight w;
  w.name = layer.name + (part.empty() ? "" : "/" + part) + "/" + s;
  w.shape = a.shape;
  w.data = a.data;
  return cx.graph().add_weight(std::move(w));
}

struct Half {  // how one recurrent op is named and flipped (Bidirectional's halves)
  std::string part;       // "" for a plain layer, "forward" / "backward"
  bool reverse_output = false;
};

// One recurrent op reading `input`; w[first..first+weight_count) are its weights. With `states`
// (a layer called on its own), return_state=True appends the last h (and LSTM c) tensors to it.
int add_rnn(Context& cx, const Layer& layer, const RnnConfig& rc, const std::vector<load::NamedArray>& w, size_t first,
            int input, const Half& half, std::vector<int>* states = nullptr) {
  const json& lc = *rc.layer_cfg;
  const json& cc = *rc.cell_cfg;
  check_layer_options(lc, states != nullptr);
  const ir::Shape& in_shape = cx.shape_of(input);
  if (in_shape.size() != 2)
    throw LayerProblem{"expects a [timesteps, features] sequence per sample; got per-sample shape " +
                       ir::to_string(in_shape)};
  const int64_t steps = in_shape[0], in = in_shape[1];
  ir::RnnAttrs a;
  a.cell = rc.cell;
  a.units = get_int(cc, "units");
  if (a.units <= 0) throw LayerProblem{"units must be positive"};
  const int64_t gu = ir::rnn_gates(rc.cell) * a.units;
  a.act = rnn_activation(cc, "activation", "tanh", cx.keras_major());
  a.rec_act = rnn_activation(cc, "recurrent_activation", "sigmoid", cx.keras_major());
  a.reset_after = rc.cell == ir::RnnCell::Gru && get_bool(cc, "reset_after", true);
  a.return_sequences = get_bool(lc, "return_sequences", false);
  a.go_backwards = get_bool(lc, "go_backwards", false);
  a.reverse_output = half.reverse_output && a.return_sequences;
  a.return_state = states != nullptr && get_bool(lc, "return_state", false);
  Context::expect_shape(w[first], {in, gu}, "kernel");
  Context::expect_shape(w[first + 1], {a.units, gu}, "recurrent kernel");
  a.kernel = add_weight(cx, layer, half.part, w[first]);
  a.recurrent = add_weight(cx, layer, half.part, w[first + 1]);
  if (weight_count(rc) == 3) {
    Context::expect_shape(w[first + 2], a.reset_after ? ir::Shape{2, gu} : ir::Shape{gu}, "bias");
    a.bias = add_weight(cx, layer, half.part, w[first + 2]);
  }
  const ir::Shape out_shape = a.return_sequences ? ir::Shape{steps, a.units} : ir::Shape{a.units};
  const int mask = cx.mask_of(input);
  a.masked = mask >= 0;
  a.zero_masked_output = a.masked && a.return_sequences && !half.part.empty();  // Keras: zero_output_for_mask
  ir::Graph& g = cx.graph();
  const int scratch = g.add_tensor({layer.name + "/scratch", {ir::rnn_scratch_floats(a)}});
  const int out = cx.add_op(layer, a, input, out_shape);
  if (a.return_state)
    for (const char* what : {"h", "c"}) {
      if (*what == 'c' && rc.cell != ir::RnnCell::Lstm) break;
      states->push_back(g.add_tensor({layer.name + "/" + what, {a.units}}));
      g.ops.back().outputs.push_back(states->back());
    }
  g.ops.back().outputs.push_back(scratch);
  if (a.masked) g.ops.back().inputs.push_back(mask);
  if (a.return_sequences) cx.copy_mask(input, out);
  if (!half.part.empty()) {
    g.tensors[out].name = layer.name + "/" + half.part;
    g.ops.back().keras_class += ": " + half.part + " " + ir::to_string(rc.cell);
  }
  return out;
}

// A nested layer config {class_name, config}: the recurrent cell kind it names, or throws.
ir::RnnCell cell_kind(const std::string& cls, const char* what) {
  if (cls == "SimpleRNN" || cls == "SimpleRNNCell") return ir::RnnCell::Simple;
  if (cls == "LSTM" || cls == "LSTMCell") return ir::RnnCell::Lstm;
  if (cls == "GRU" || cls == "GRUCell") return ir::RnnCell::Gru;
  throw LayerProblem{std::string(what) + " is a '" + cls + "'; only SimpleRNN, LSTM and GRU are supported there"};
}

const json& nested(const json& cfg, const char* key) {
  const json& n = require(cfg, key);
  if (!n.is_object() || !n.contains("class_name") || !n["class_name"].is_string() || !n.contains("config") ||
      !n["config"].is_object())
    throw LayerProblem{std::string("'") + key + "' is not a layer config"};
  return n;
}

// SimpleRNN / LSTM / GRU, or RNN(cell) when cell is Simple and the config names the cell.
RnnConfig config_of(const Layer& layer, ir::RnnCell cell) {
  if (layer.class_name != "RNN") return RnnConfig{cell, layer.config, layer.config};
  const json& cc = require(*layer.config, "cell");
  if (cc.is_array() || string_at(cc, "class_name") == "StackedRNNCells")
    throw LayerProblem{"RNN over several stacked cells is not supported; use one recurrent layer per cell"};
  const json& c = nested(*layer.config, "cell");
  return RnnConfig{cell_kind(c["class_name"].get<std::string>(), "the cell"), layer.config, &c["config"]};
}

// One call of a plain recurrent layer: {y}, or {y, h (, c)} with return_state.
std::vector<int> call_plain(Context& cx, const Layer& layer, const std::vector<int>& inputs, ir::RnnCell cell) {
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; initial states are not supported "
                       "(call the layer on its input alone)"};
  const RnnConfig rc = config_of(layer, cell);
  std::vector<int> out = {0};
  out[0] = add_rnn(cx, layer, rc, cx.weights(layer, weight_count(rc)), 0, inputs[0], {}, &out);
  return out;
}

// Inside TimeDistributed: one output only (return_state refused).
int lower_plain(Context& cx, const Layer& layer, int input, ir::RnnCell cell) {
  const RnnConfig rc = config_of(layer, cell);
  return add_rnn(cx, layer, rc, cx.weights(layer, weight_count(rc)), 0, input, {});
}

}  // namespace

int lower_simple_rnn(Context& cx, const Layer& layer, int input) { return lower_plain(cx, layer, input, ir::RnnCell::Simple); }
int lower_lstm(Context& cx, const Layer& layer, int input) { return lower_plain(cx, layer, input, ir::RnnCell::Lstm); }
int lower_gru(Context& cx, const Layer& layer, int input) { return lower_plain(cx, layer, input, ir::RnnCell::Gru); }
int lower_rnn(Context& cx, const Layer& layer, int input) { return lower_plain(cx, layer, input, ir::RnnCell::Simple); }

std::vector<int> lower_simple_rnn_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  return call_plain(cx, layer, inputs, ir::RnnCell::Simple);
}
std::vector<int> lower_lstm_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  return call_plain(cx, layer, inputs, ir::RnnCell::Lstm);
}
std::vector<int> lower_gru_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  return call_plain(cx, layer, inputs, ir::RnnCell::Gru);
}
std::vector<int> lower_rnn_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  return call_plain(cx, layer, inputs, ir::RnnCell::Simple);
}

namespace {

// Bidirectional's tensors: {merged}, or {forward, backward} for merge_mode=None.
std::vector<int> bidirectional(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  check_layer_options(cfg, false);
  const json& fwd = nested(cfg, "layer");
  const json* bwd = cfg.contains("backward_layer") && !cfg["backward_layer"].is_null() ? &nested(cfg, "backward_layer")
                                                                                       : nullptr;
  const RnnConfig f{cell_kind(fwd["class_name"].get<std::string>(), "the wrapped layer"), &fwd["config"], &fwd["config"]};
  json implied;  // no backward_layer saved: the forward config with go_backwards flipped (what Keras builds)
  if (!bwd) {
    implied = fwd;
    implied["config"]["go_backwards"] = !get_bool(fwd["config"], "go_backwards", false);
    bwd = &implied;
  }
  const RnnConfig b{cell_kind((*bwd)["class_name"].get<std::string>(), "backward_layer"), &(*bwd)["config"],
                    &(*bwd)["config"]};
  if (get_bool(*f.layer_cfg, "return_sequences", false) != get_bool(*b.layer_cfg, "return_sequences", false))
    throw LayerProblem{"the forward and backward layers differ in return_sequences"};
  const auto& w = cx.weights(layer, weight_count(f) + weight_count(b));
  const int y = add_rnn(cx, layer, f, w, 0, input, {"forward", false});
  const int y_rev = add_rnn(cx, layer, b, w, weight_count(f), input, {"backward", true});
  if (cx.shape_of(y) != cx.shape_of(y_rev))
    throw LayerProblem{"the forward and backward layers give different shapes " + ir::to_string(cx.shape_of(y)) +
                       " and " + ir::to_string(cx.shape_of(y_rev))};
  const json mode = cfg.value("merge_mode", json("concat"));
  if (mode.is_null()) {  // two tensors: forward, then backward (each with the input's mask if any)
    cx.graph().tensors[y_rev].name = layer.name;
    return {y, y_rev};
  }
  const std::string m = mode.is_string() ? mode.get<std::string>() : mode.dump();
  ir::BidirMergeAttrs attrs;
  ir::Shape shape = cx.shape_of(y);
  if (m == "concat") attrs.mode = ir::MergeMode::Concat, shape.back() *= 2;
  else if (m == "sum") attrs.mode = ir::MergeMode::Sum;
  else if (m == "ave") attrs.mode = ir::MergeMode::Ave;
  else if (m == "mul") attrs.mode = ir::MergeMode::Mul;
  else throw LayerProblem{"merge_mode '" + m + "' is not one of concat, sum, ave, mul, None"};
  const int out = cx.add_op(layer, attrs, y, shape);
  cx.graph().ops.back().inputs.push_back(y_rev);
  cx.copy_mask(y, out);
  return {out};
}

}  // namespace

int lower_bidirectional(Context& cx, const Layer& layer, int input) {
  const std::vector<int> out = bidirectional(cx, layer, input);
  if (out.size() != 1) throw LayerProblem{"merge_mode=None gives two tensors; not supported inside TimeDistributed"};
  return out[0];
}

std::vector<int> lower_bidirectional_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; initial states are not supported"};
  return bidirectional(cx, layer, inputs[0]);
}

int lower_time_distributed(Context& cx, const Layer& layer, int input) {
  const json& entry = nested(*layer.config, "layer");
  Layer inner;
  inner.name = layer.name;  // the weights are stored under the wrapper's name
  inner.keras_name = layer.keras_name;
  inner.class_name = entry["class_name"].get<std::string>();
  inner.config = &entry["config"];
  if (entry.contains("registered_name") && entry["registered_name"].is_string())
    inner.registered_name = entry["registered_name"].get<std::string>();
  const LowerFn fn = inner.registered_name.find('>') == std::string::npos ? find_lowering(inner.class_name).one : nullptr;
  if (!fn) throw LayerProblem{"wraps a '" + inner.class_name + "' layer, which kc2cpp does not support"};
  const MaskUse use = find_mask_use(inner.class_name);
  if (cx.has_mask(input) && use != MaskUse::Drop && use != MaskUse::Pass && use != MaskUse::PassK3)
    throw LayerProblem{"receives a Keras mask, which the wrapped " + inner.class_name + " would use per timestep; "
                       "kc2cpp does not support that: remove the mask or the wrapper"};
  ir::Graph& g = cx.graph();
  const ir::Shape full = g.tensors[input].shape;
  if (full.size() < 2) throw LayerProblem{"needs a per-sample rank of at least 2 (timesteps first)"};
  const size_t first_op = g.ops.size(), first_tensor = g.tensors.size();
  // The wrapped layer is lowered on one timestep's shape; its ops then run on every slice.
  g.tensors[input].shape.assign(full.begin() + 1, full.end());
  int out;
  try {
    out = fn(cx, inner, input);
  } catch (const LayerProblem& p) {
    g.tensors[input].shape = full;
    throw LayerProblem{"the wrapped " + inner.class_name + ": " + p.why};
  }
  g.tensors[input].shape = full;
  for (size_t t = first_tensor; t < g.tensors.size(); ++t)
    g.tensors[t].shape.insert(g.tensors[t].shape.begin(), full[0]);
  for (size_t i = first_op; i < g.ops.size(); ++i) {
    g.ops[i].slices = full[0];
    g.ops[i].keras_class = "TimeDistributed(" + g.ops[i].keras_class + ")";
  }
  cx.copy_mask(input, out);  // Keras passes the mask on (the wrapped layer ignores it)
  return out;
}

// Masking: y = x * keep_t; with a [T, features] input the mask (keep_t) rides along with y.
int lower_masking(Context& cx, const Layer& layer, int input) {
  const ir::Shape in = cx.shape_of(input);
  ir::MaskAttrs a;
  a.form = ir::MaskForm::Apply;
  a.value = get_float(*layer.config, "mask_value", 0.0f);
  a.features = in.back();
  const int y = cx.add_op(layer, a, input, in);
  a.form = ir::MaskForm::Compute;
  if (in.size() == 2) cx.set_mask(y, layer, input, a);
  else cx.set_unknown_mask(y, "Masking '" + layer.name + "' on a rank-" + std::to_string(in.size() + 1) +
                                  " input masks more than the time axis");
  return y;
}

}  // namespace kc2cpp::lower

namespace kc2cpp::lower {
namespace {

// ConvLSTM1D/2D/3D as one op (ir::ConvLstmAttrs: the LSTM cell of ir/ops_recurrent.h with
// convolutions for the products, as Keras's ConvLSTMCell computes it, looped over T inside one
// kernel). The input convolution has the layer's kernel_size, strides, dilation_rate and padding;
// the recurrent one the same kernel_size with padding same, strides 1, dilation 1 (Keras's
// recurrent_conv). Returns {y}, or {y, h, c} with return_state.
std::vector<int> conv_lstm_op(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const int rank = layer.class_name == "ConvLSTM1D" ? 1 : layer.class_name == "ConvLSTM3D" ? 3 : 2;
  ir::ConvLstmAttrs a;
  a.filters = get_int(cfg, "filters");
  if (a.filters <= 0) throw LayerProblem{"filters must be positive"};
  const ConvWindow input_window = conv_window(cfg, rank, false);
  ConvWindow state_window = input_window;
  state_window.s.assign(static_cast<size_t>(rank), 1);
  state_window.d.assign(static_cast<size_t>(rank), 1);
  state_window.padding = "same";
  a.act = rnn_activation(cfg, "activation", "tanh", cx.keras_major());
  a.rec_act = rnn_activation(cfg, "recurrent_activation", "sigmoid", cx.keras_major());
  a.return_sequences = get_bool(cfg, "return_sequences", false);
  a.go_backwards = get_bool(cfg, "go_backwards", false);
  a.return_state = get_bool(cfg, "return_state", false);
  const ir::Shape in = cx.shape_of(input);
  if (in.size() != static_cast<size_t>(rank) + 2)
    throw LayerProblem{"expects a rank-" + std::to_string(rank + 3) + " input (batch, timesteps, " +
                       std::to_string(rank) + " spatial axes, channels), got per-sample shape " + ir::to_string(in)};
  const int64_t steps = in[0], f4 = 4 * a.filters;
  const bool use_bias = get_bool(cfg, "use_bias", true);
  const auto& w = cx.weights(layer, use_bias ? 3 : 2);
  FrameConv x = frame_conv(ir::Shape(in.begin() + 1, in.end()), input_window, w[0], use_bias ? &w[2] : nullptr, f4);
  ir::Shape state = x.out;
  state.back() = a.filters;
  FrameConv h = frame_conv(state, state_window, w[1], nullptr, f4);
  if (h.out != x.out) throw LayerProblem{"internal: recurrent convolution shape " + ir::to_string(h.out)};
  a.volume = x.volume;
  a.input_taps = x.taps, a.recurrent_taps = h.taps;
  a.input.geom = x.geom, a.recurrent.geom = h.geom;
  a.input.kernel = cx.add_weight(layer, load::NamedArray{w[0].name, w[0].shape, std::move(x.kernel)}, {x.kernel_rows, f4});
  if (use_bias) a.input.bias = cx.add_weight(layer, w[2]);
  a.recurrent.kernel = cx.add_weight(layer, load::NamedArray{w[1].name, w[1].shape, std::move(h.kernel)}, {h.kernel_rows, f4});
  ir::Shape out = state;
  if (a.return_sequences) out.insert(out.begin(), steps);
  ir::Graph& g = cx.graph();
  const int scratch = g.add_tensor({layer.name + "/scratch", {ir::conv_lstm_scratch_floats(a)}});
  const int y = cx.add_op(layer, a, input, out);
  std::vector<int> outs = {y};
  if (a.return_state)
    for (const char* what : {"h", "c"}) {
      outs.push_back(g.add_tensor({layer.name + "/" + what, state}));
      g.ops.back().outputs.push_back(outs.back());
    }
  g.ops.back().outputs.push_back(scratch);
  return outs;
}

// channels_first: the channels_last op between two Permutes (channels to the end, then back to
// the front of each output's spatial axes; y keeps its time axis first).
std::vector<int> conv_lstm(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  if (!channels_first(cfg)) return conv_lstm_op(cx, layer, input);
  json last = cfg;
  last["data_format"] = "channels_last";
  Layer l = layer;
  l.config = &last;
  const ir::Shape in = cx.shape_of(input);
  std::vector<int> to_last = {0};
  for (int i = 2; i < static_cast<int>(in.size()); ++i) to_last.push_back(i);
  to_last.push_back(1);
  std::vector<int> outs = conv_lstm_op(cx, l, cx.add_op(layer, make_permute(in, to_last), input, permuted(in, to_last)));
  for (int& y : outs) {
    const ir::Shape out = cx.shape_of(y);
    const int lead = out.size() == in.size() ? 1 : 0;  // return_sequences' y: the time axis stays first
    std::vector<int> to_front;
    for (int i = 0; i < lead; ++i) to_front.push_back(i);
    to_front.push_back(static_cast<int>(out.size()) - 1);
    for (int i = lead; i + 1 < static_cast<int>(out.size()); ++i) to_front.push_back(i);
    y = cx.add_op(layer, make_permute(out, to_front), y, permuted(out, to_front));
  }
  return outs;
}

}  // namespace

std::vector<int> lower_conv_lstm(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; initial states are not supported "
                       "(call the layer on its input alone)"};
  return conv_lstm(cx, layer, inputs[0]);
}

}  // namespace kc2cpp::lower
