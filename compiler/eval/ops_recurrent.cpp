// Evaluator: recurrent ops (SimpleRNN, LSTM, GRU and ConvLSTM in sequence and step form; Bidirectional
// merge).
// The operation order is the contract in compiler/ir/ops_recurrent.h, which
// runtime_min/kc2cpp_kernels_recurrent.h follows too. Weights are read in Keras's own layout.
#include <cmath>

#include "error.h"
#include "eval/ops.h"
#include "eval/runtime.h"

namespace kc2cpp::eval {
namespace {

class Cell {
 public:
  Cell(const ir::RnnAttrs& a, const OpContext& c, int64_t in)
      : a_(a), fp_(c.g.fp), in_(in), u_(a.units), gu_(ir::rnn_gates(a.cell) * a.units),
        w_(c.weight(a.kernel).data()), rw_(c.weight(a.recurrent).data()),
        b_(a.bias >= 0 ? c.weight(a.bias).data() : nullptr) {}

  // One timestep: h (and c, LSTM) updated in place.
  void step(const float* x, std::vector<float>& h, std::vector<float>& c) const {
    std::vector<float> xw(static_cast<size_t>(gu_)), hu(static_cast<size_t>(gu_));
    reduce_columns(x, in_, w_, gu_, gu_, a_.x_splits, fp_, xw.data());
    const bool gru_before = a_.cell == ir::RnnCell::Gru && !a_.reset_after;
    reduce_columns(h.data(), u_, rw_, gu_, gru_before ? 2 * u_ : gu_, a_.h_splits, fp_, hu.data());
    switch (a_.cell) {
      case ir::RnnCell::Simple: return simple(xw, hu, h);
      case ir::RnnCell::Lstm: return lstm(xw, hu, h, c);
      case ir::RnnCell::Gru: return gru(xw, hu, h);
    }
  }

 private:
  float bias(int64_t n) const { return b_[n]; }

  void simple(const std::vector<float>& xw, const std::vector<float>& hu, std::vector<float>& h) const {
    for (int64_t j = 0; j < u_; ++j) {
      float v = xw[j];
      if (b_) v = rt::add(v, bias(j));
      h[j] = apply(a_.act, fp_, rt::add(v, hu[j]));
    }
  }

  void lstm(const std::vector<float>& xw, const std::vector<float>& hu, std::vector<float>& h,
            std::vector<float>& c) const {
    for (int64_t j = 0; j < u_; ++j) {
      float z[4];
      for (int64_t g = 0; g < 4; ++g) {
        z[g] = rt::add(xw[g * u_ + j], hu[g * u_ + j]);
        if (b_) z[g] = rt::add(z[g], bias(g * u_ + j));
      }
      const float i = apply(a_.rec_act, fp_, z[0]), f = apply(a_.rec_act, fp_, z[1]), o = apply(a_.rec_act, fp_, z[3]);
      c[j] = rt::add(rt::mul(f, c[j]), rt::mul(i, apply(a_.act, fp_, z[2])));
      h[j] = rt::mul(o, apply(a_.act, fp_, c[j]));
    }
  }

  static float mix(float z, float h, float hh) { return rt::add(rt::mul(z, h), rt::mul(rt::sub(1.0f, z), hh)); }

  void gru(const std::vector<float>& xw, std::vector<float>& hu, std::vector<float>& h) const {
    auto mx = [&](int64_t g, int64_t j) { return b_ ? rt::add(xw[g * u_ + j], bias(g * u_ + j)) : xw[g * u_ + j]; };
    if (a_.reset_after) {
      auto mh = [&](int64_t g, int64_t j) {
        return b_ ? rt::add(hu[g * u_ + j], bias(gu_ + g * u_ + j)) : hu[g * u_ + j];
      };
      for (int64_t j = 0; j < u_; ++j) {
        const float z = apply(a_.rec_act, fp_, rt::add(mx(0, j), mh(0, j)));
        const float r = apply(a_.rec_act, fp_, rt::add(mx(1, j), mh(1, j)));
        const float hh = apply(a_.act, fp_, rt::add(mx(2, j), rt::mul(r, mh(2, j))));
        h[j] = mix(z, h[j], hh);
      }
      return;
    }
    std::vector<float> z(static_cast<size_t>(u_)), rh(static_cast<size_t>(u_));
    for (int64_t j = 0; j < u_; ++j) {
      z[j] = apply(a_.rec_act, fp_, rt::add(mx(0, j), hu[j]));
      const float r = apply(a_.rec_act, fp_, rt::add(mx(1, j), hu[u_ + j]));
      rh[j] = rt::mul(r, h[j]);
    }
    reduce_columns(rh.data(), u_, rw_ + 2 * u_, gu_, u_, a_.h_splits, fp_, hu.data() + 2 * u_);
    for (int64_t j = 0; j < u_; ++j) h[j] = mix(z[j], h[j], apply(a_.act, fp_, rt::add(mx(2, j), hu[2 * u_ + j])));
  }

  const ir::RnnAttrs& a_;
  ir::FpMode fp_;
  int64_t in_, u_, gu_;
  const float *w_, *rw_, *b_;
};

}  // namespace

void run(const ir::RnnAttrs& a, const OpContext& c) {
  const size_t u = static_cast<size_t>(a.units);
  const bool lstm = a.cell == ir::RnnCell::Lstm;
  c.y(c.out.size() - 1).assign(static_cast<size_t>(ir::rnn_scratch_floats(a)), 0.0f);  // scratch: unused here
  if (a.step) {  // inputs {x_t, h (, c) (, mask)}, outputs {h' (, c'), scratch}
    std::vector<float> h = c.x(1), cs = lstm ? c.x(2) : std::vector<float>(u, 0.0f);
    if (!a.masked || c.x(c.in.size() - 1)[0] != 0.0f) Cell(a, c, ir::num_elements(c.in_shape(0))).step(c.x(0).data(), h, cs);
    c.y(0) = h;
    if (lstm) c.y(1) = cs;
    return;
  }
  const ir::Shape s = c.in_shape();
  if (s.size() != 2) throw Error("internal: recurrent op on a rank-" + std::to_string(s.size()) + " input");
  const int64_t steps = s[0], in = s[1];
  const Cell cell(a, c, in);
  std::vector<float> h(u, 0.0f), cs(u, 0.0f);
  std::vector<float>& y = c.y();
  y.assign(a.return_sequences ? static_cast<size_t>(steps) * u : u, 0.0f);
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t t = a.go_backwards ? steps - 1 - step : step;
    const bool keep = !a.masked || c.x(1)[static_cast<size_t>(t)] != 0.0f;
    if (keep) cell.step(c.x().data() + t * in, h, cs);
    if (a.return_sequences && (keep || !a.zero_masked_output))  // else the row stays zero
      std::copy(h.begin(), h.end(), y.begin() + (a.reverse_output ? steps - 1 - step : step) * static_cast<int64_t>(u));
  }
  if (!a.return_sequences) y = h;
  if (a.return_state) {
    c.y(1) = h;
    if (lstm) c.y(2) = cs;
  }
}

namespace {

// ConvLSTM's convolution of one frame (ir::ConvLstmAttrs): the Conv op's evaluator, after the depth
// taps on each depth slice for ConvLSTM3D (exactly Conv3D's ops).
std::vector<float> frame_conv(const ir::ConvAttrs& conv, bool volume, const ir::DepthTapsAttrs& taps,
                              const std::vector<float>& x, const OpContext& c) {
  std::vector<float> y;
  if (!volume) {
    run(conv, OpContext{c.g, c.op, {&x}, {&y}});
    return y;
  }
  std::vector<float> gathered, slice, part;
  run(taps, OpContext{c.g, c.op, {&x}, {&gathered}});
  const ir::ConvGeom& g = conv.geom;
  const size_t n = static_cast<size_t>(g.in_h * g.in_w * g.in_c);
  for (int64_t s = 0; s < taps.out_d; ++s) {
    slice.assign(gathered.begin() + static_cast<std::ptrdiff_t>(s * n),
                 gathered.begin() + static_cast<std::ptrdiff_t>((s + 1) * n));
    run(conv, OpContext{c.g, c.op, {&slice}, {&part}});
    y.insert(y.end(), part.begin(), part.end());
  }
  return y;
}

// One timestep of the cell: h and c (P*F each) updated in place.
void conv_lstm_step(const ir::ConvLstmAttrs& a, const OpContext& c, const std::vector<float>& x, std::vector<float>& h,
                    std::vector<float>& cs) {
  const std::vector<float> zx = frame_conv(a.input, a.volume, a.input_taps, x, c);
  const std::vector<float> zh = frame_conv(a.recurrent, a.volume, a.recurrent_taps, h, c);
  const int64_t p_count = ir::conv_lstm_pixels(a), f = a.filters;
  const ir::FpMode fp = c.g.fp;
  for (int64_t p = 0; p < p_count; ++p)
    for (int64_t j = 0; j < f; ++j) {
      float z[4];
      for (int64_t g = 0; g < 4; ++g) {
        const size_t k = static_cast<size_t>(p * 4 * f + g * f + j);
        z[g] = rt::add(zx[k], zh[k]);
      }
      const float i = apply(a.rec_act, fp, z[0]), fg = apply(a.rec_act, fp, z[1]), o = apply(a.rec_act, fp, z[3]);
      const size_t at = static_cast<size_t>(p * f + j);
      cs[at] = rt::add(rt::mul(fg, cs[at]), rt::mul(i, apply(a.act, fp, z[2])));
      h[at] = rt::mul(o, apply(a.act, fp, cs[at]));
    }
}

}  // namespace

void run(const ir::ConvLstmAttrs& a, const OpContext& c) {
  c.y(c.out.size() - 1).assign(static_cast<size_t>(ir::conv_lstm_scratch_floats(a)), 0.0f);  // scratch: unused here
  if (a.step) {  // inputs {x_t, h, c}, outputs {h', c', scratch}
    std::vector<float> h = c.x(1), cs = c.x(2);
    conv_lstm_step(a, c, c.x(0), h, cs);
    c.y(0) = h;
    c.y(1) = cs;
    return;
  }
  const size_t state = static_cast<size_t>(ir::conv_lstm_pixels(a) * a.filters);
  const int64_t steps = c.in_shape()[0];
  const size_t frame = c.x().size() / static_cast<size_t>(steps);
  std::vector<float> h(state, 0.0f), cs(state, 0.0f), x;
  std::vector<float>& y = c.y();
  y.clear();
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = a.go_backwards ? steps - 1 - s : s;
    x.assign(c.x().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(t) * frame),
             c.x().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(t + 1) * frame));
    conv_lstm_step(a, c, x, h, cs);
    if (a.return_sequences) y.insert(y.end(), h.begin(), h.end());
  }
  if (!a.return_sequences) y = h;
  if (a.return_state) {
    c.y(1) = h;
    c.y(2) = cs;
  }
}

void run(const ir::MaskAttrs& m, const OpContext& c) {
  const std::vector<float>& x = c.x();
  const size_t f = static_cast<size_t>(m.features), steps = x.size() / f;
  std::vector<float>& y = c.y();
  y.resize(m.form == ir::MaskForm::Compute ? steps : x.size());
  for (size_t t = 0; t < steps; ++t) {
    bool keep = false;
    for (size_t k = 0; k < f; ++k) keep = keep || x[t * f + k] != m.value;
    if (m.form == ir::MaskForm::Compute) y[t] = keep ? 1.0f : 0.0f;
    else
      for (size_t k = 0; k < f; ++k) y[t * f + k] = rt::mul(x[t * f + k], keep ? 1.0f : 0.0f);
  }
}

void run(const ir::BidirMergeAttrs& m, const OpContext& c) {
  const std::vector<float>& a = c.x(0);
  const std::vector<float>& b = c.x(1);
  std::vector<float>& y = c.y();
  if (m.mode == ir::MergeMode::Concat) {
    const size_t u = static_cast<size_t>(c.in_shape(0).back()), rows = a.size() / u;
    y.clear();
    for (size_t r = 0; r < rows; ++r) {
      y.insert(y.end(), a.begin() + static_cast<std::ptrdiff_t>(r * u), a.begin() + static_cast<std::ptrdiff_t>((r + 1) * u));
      y.insert(y.end(), b.begin() + static_cast<std::ptrdiff_t>(r * u), b.begin() + static_cast<std::ptrdiff_t>((r + 1) * u));
    }
    return;
  }
  y.resize(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    switch (m.mode) {
      case ir::MergeMode::Sum: y[i] = rt::add(a[i], b[i]); break;
      case ir::MergeMode::Ave: y[i] = rt::mul(rt::add(a[i], b[i]), 0.5f); break;
      case ir::MergeMode::Mul: y[i] = rt::mul(a[i], b[i]); break;
      case ir::MergeMode::Concat: break;
    }
  }
}

}  // namespace kc2cpp::eval
