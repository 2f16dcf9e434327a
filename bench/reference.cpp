// kc2cpp benchmark: scalar-loop and Eigen reference implementations (see reference.h).
// Built with -O3 -march=native -ffp-contract=fast (bench/CMakeLists.txt): the references get
// every advantage the host compiler can give them (auto-vectorisation, FMA contraction).
#include "reference.h"

#include <time.h>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <Eigen/Dense>

namespace bench {
namespace {

// ---------------------------------------------------------------------------------------------
// Plain scalar loops
// ---------------------------------------------------------------------------------------------
void dense_loop(const float* __restrict x, const float* __restrict w, const float* __restrict b,
                float* __restrict y, int in, int out) {
  for (int j = 0; j < out; ++j) y[j] = b[j];
  for (int i = 0; i < in; ++i) {
    const float xi = x[i];
    const float* __restrict wr = w + static_cast<std::size_t>(i) * out;
    for (int j = 0; j < out; ++j) y[j] += xi * wr[j];
  }
}

void act_loop(float* y, int n, const ActSpec& a) {
  switch (a.kind) {
    case ActKind::Linear: break;
    case ActKind::Relu:
      for (int j = 0; j < n; ++j) y[j] = y[j] < 0.0f ? 0.0f : y[j];
      break;
    case ActKind::Sigmoid:
      for (int j = 0; j < n; ++j) y[j] = 1.0f / (1.0f + std::exp(-y[j]));
      break;
    case ActKind::Elu:
      for (int j = 0; j < n; ++j) y[j] = y[j] > 0.0f ? y[j] : a.alpha * std::expm1(y[j]);
      break;
    case ActKind::Leaky:
      for (int j = 0; j < n; ++j) y[j] = y[j] < 0.0f ? a.alpha * y[j] : y[j];
      break;
    case ActKind::Tanh:
      for (int j = 0; j < n; ++j) y[j] = std::tanh(y[j]);
      break;
    case ActKind::Softmax: {
      float m = y[0];
      for (int j = 1; j < n; ++j) m = y[j] > m ? y[j] : m;
      float s = 0.0f;
      for (int j = 0; j < n; ++j) s += (y[j] = std::exp(y[j] - m));
      for (int j = 0; j < n; ++j) y[j] /= s;
      break;
    }
  }
}

class ScalarModel final : public Impl {
 public:
  explicit ScalarModel(const ModelSpec& m) : m_(m) {
    int widest = 0;
    for (const auto& l : m_.layers) widest = l.out > widest ? l.out : widest;
    buf_[0].assign(widest, 0.0f);
    buf_[1].assign(widest, 0.0f);
  }
  void predict(const float* x, float* y) override {
    const float* cur = x;
    const std::size_t n = m_.layers.size();
    for (std::size_t l = 0; l < n; ++l) {
      const DenseSpec& d = m_.layers[l];
      float* o = (l + 1 == n) ? y : buf_[l & 1].data();
      dense_loop(cur, d.kernel.data(), d.bias.data(), o, d.in, d.out);
      for (const ActSpec& a : d.acts) act_loop(o, d.out, a);
      cur = o;
    }
  }

 private:
  ModelSpec m_;
  std::vector<float> buf_[2];
};

// ---------------------------------------------------------------------------------------------
// Plain scalar loops for the other families (NetSpec): one loop nest per layer
// ---------------------------------------------------------------------------------------------
float act1(float v, const ActSpec& a) {
  switch (a.kind) {
    case ActKind::Linear: return v;
    case ActKind::Relu: return v < 0.0f ? 0.0f : v;
    case ActKind::Sigmoid: return 1.0f / (1.0f + std::exp(-v));
    case ActKind::Elu: return v > 0.0f ? v : a.alpha * std::expm1(v);
    case ActKind::Leaky: return v < 0.0f ? a.alpha * v : v;
    case ActKind::Tanh: return std::tanh(v);
    case ActKind::Softmax: break;
  }
  return v;
}

// The activation on every row of length `last` (Softmax needs the whole row).
void act_rows(float* y, long total, int last, const ActSpec& a) {
  if (a.kind == ActKind::Linear) return;
  for (long r = 0; r < total; r += last) act_loop(y + r, last, a);
}

long prod(const std::vector<int>& d) {
  long n = 1;
  for (int v : d) n *= v;
  return n;
}

// Output length and leading padding of a window op along one axis (Keras/TF 'valid', 'same', 'causal').
int out_len(int n, int k, int s, int d, NetLayer::Pad p, int* before) {
  const int ke = (k - 1) * d + 1;
  if (p == NetLayer::Valid) { *before = 0; return n < ke ? 0 : (n - ke) / s + 1; }
  if (p == NetLayer::Causal) { *before = ke - 1; return (n - 1) / s + 1; }
  const int o = (n + s - 1) / s;
  const int tot = std::max((o - 1) * s + ke - n, 0);
  *before = tot / 2;
  return o;
}

class ScalarNet final : public Impl {
  struct Geo { int H = 1, W = 1, C = 1, OH = 1, OW = 1, ph = 0, pw = 0; };
  struct L {
    NetLayer p;
    std::vector<int> in, out, sin, sout;  // predict shapes; step shapes
    Geo g, sg;
    std::vector<float> h, c;              // recurrent state for step()
  };

 public:
  ScalarNet(const NetSpec& m, int* out_size, long* macs, long* step_macs) {
    std::vector<int> shape = m.in_shape;
    in_size_ = static_cast<int>(prod(shape));
    // Streaming: the layers up to the last recurrent one must be per-timestep.
    int last_rnn = -1;
    for (std::size_t i = 0; i < m.layers.size(); ++i)
      if (m.layers[i].op == NetOp::GRU || m.layers[i].op == NetOp::LSTM) last_rnn = static_cast<int>(i);
    can_step_ = last_rnn >= 0;
    for (int i = 0; i < last_rnn; ++i) {
      const NetOp o = m.layers[i].op;
      if (!(o == NetOp::Dense || o == NetOp::Embedding || o == NetOp::Act || o == NetOp::LayerNorm ||
            o == NetOp::BatchNorm || o == NetOp::GRU || o == NetOp::LSTM))
        can_step_ = false;
    }
    std::vector<int> sshape(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
    step_in_ = static_cast<int>(prod(sshape));
    *macs = 0;
    *step_macs = 0;
    long widest = std::max<long>(prod(shape), 1);
    for (const NetLayer& nl : m.layers) {
      L l;
      l.p = nl;
      l.in = shape;
      l.out = infer(l.p, shape, l.g, false, macs);
      if (can_step_) {
        l.sin = sshape;
        l.sout = infer(l.p, sshape, l.sg, true, step_macs);
        widest = std::max(widest, prod(l.sout));
        sshape = l.sout;
      }
      if ((l.p.op == NetOp::Dense || l.p.op == NetOp::Conv || l.p.op == NetOp::Depthwise ||
           l.p.op == NetOp::Separable) && l.p.b.empty()) {
        const long nb = l.p.op == NetOp::Depthwise ? static_cast<long>(l.g.C) * l.p.depth_multiplier : l.p.units;
        l.p.b.assign(nb, 0.0f);
      }
      if (l.p.op == NetOp::BatchNorm) {  // y = x * scale + shift, folded once here
        const std::size_t n = l.p.mean.size();
        std::vector<float> sc(n), sh(n);
        for (std::size_t j = 0; j < n; ++j) {
          const float g = l.p.gamma.empty() ? 1.0f : l.p.gamma[j], bt = l.p.beta.empty() ? 0.0f : l.p.beta[j];
          sc[j] = g / std::sqrt(l.p.var[j] + l.p.eps);
          sh[j] = bt - l.p.mean[j] * sc[j];
        }
        l.p.gamma = sc;
        l.p.beta = sh;
      }
      if (l.p.op == NetOp::GRU || l.p.op == NetOp::LSTM) {
        l.h.assign(l.p.units, 0.0f);
        l.c.assign(l.p.units, 0.0f);
      }
      widest = std::max(widest, prod(l.out));
      if (l.p.op == NetOp::Separable) widest = std::max(widest, static_cast<long>(l.g.OH) * l.g.OW * l.g.C * l.p.depth_multiplier);
      shape = l.out;
      ls_.push_back(std::move(l));
    }
    out_size_ = static_cast<int>(prod(shape));
    step_out_ = can_step_ ? static_cast<int>(prod(sshape)) : 0;
    *out_size = out_size_;
    for (auto& b : buf_) b.assign(widest + 16, 0.0f);
    int U = 1;
    for (const L& l : ls_) U = std::max(U, l.p.units);
    gx_.assign(4 * U, 0.0f);
    gh_.assign(4 * U, 0.0f);
    hs_.assign(U, 0.0f);
    cs_.assign(U, 0.0f);
    rh_.assign(U, 0.0f);
  }

  void predict(const float* x, float* y) override { run(x, y, false); }
  bool can_step() const override { return can_step_; }
  void reset() override {
    for (L& l : ls_) {
      std::fill(l.h.begin(), l.h.end(), 0.0f);
      std::fill(l.c.begin(), l.c.end(), 0.0f);
    }
  }
  void step(const float* x, float* y) override { run(x, y, true); }
  int step_in_size() const override { return step_in_; }
  int step_out_size() const override { return step_out_; }

 private:
  static Geo spatial(const std::vector<int>& in, const std::string& name) {
    Geo g;
    if (in.size() == 3) { g.H = in[0]; g.W = in[1]; g.C = in[2]; }
    else if (in.size() == 2) { g.W = in[0]; g.C = in[1]; }
    else throw std::runtime_error(name + ": spatial layer on a rank-" + std::to_string(in.size()) + " tensor");
    return g;
  }

  static std::vector<int> infer(const NetLayer& p, const std::vector<int>& in, Geo& g, bool step, long* macs) {
    std::vector<int> out = in;
    const long n = prod(in);
    switch (p.op) {
      case NetOp::Dense: {
        const int K = in.empty() ? 1 : in.back();
        if (static_cast<long>(p.w.size()) != static_cast<long>(K) * p.units)
          throw std::runtime_error(p.name + ": Dense kernel does not match the input width");
        out.back() = p.units;
        *macs += n * p.units;
        break;
      }
      case NetOp::Conv: case NetOp::Depthwise: case NetOp::Separable: case NetOp::Pool: {
        g = spatial(in, p.name);
        g.OH = out_len(g.H, p.kh, p.sh, p.dh, p.pad, &g.ph);
        g.OW = out_len(g.W, p.kw, p.sw, p.dw, p.pad, &g.pw);
        const int oc = p.op == NetOp::Conv || p.op == NetOp::Separable ? p.units
                       : p.op == NetOp::Depthwise ? g.C * p.depth_multiplier : g.C;
        const long pix = static_cast<long>(g.OH) * g.OW, win = static_cast<long>(p.kh) * p.kw;
        if (p.op == NetOp::Conv) {
          if (static_cast<long>(p.w.size()) != win * g.C * oc) throw std::runtime_error(p.name + ": kernel size");
          *macs += pix * win * g.C * oc;
        }
        if (p.op == NetOp::Depthwise || p.op == NetOp::Separable) {
          if (static_cast<long>(p.w.size()) != win * g.C * p.depth_multiplier)
            throw std::runtime_error(p.name + ": depthwise kernel size");
          *macs += pix * win * g.C * p.depth_multiplier;
        }
        if (p.op == NetOp::Separable) {
          if (static_cast<long>(p.w2.size()) != static_cast<long>(g.C) * p.depth_multiplier * oc)
            throw std::runtime_error(p.name + ": pointwise kernel size");
          *macs += pix * g.C * p.depth_multiplier * oc;
        }
        if (in.size() == 3) out = {g.OH, g.OW, oc};
        else out = {g.OW, oc};
        break;
      }
      case NetOp::GlobalPool:
        g = spatial(in, p.name);
        out = {g.C};
        break;
      case NetOp::Embedding:
        out.push_back(p.units);
        break;
      case NetOp::LayerNorm: case NetOp::BatchNorm:
        if (!in.empty() && static_cast<int>((p.op == NetOp::BatchNorm ? p.mean.size() : std::max(p.gamma.size(), p.beta.size()))) != in.back() &&
            !(p.op == NetOp::LayerNorm && p.gamma.empty() && p.beta.empty()))
          throw std::runtime_error(p.name + ": normalization over an axis other than the last");
        break;
      case NetOp::Act:
        break;
      case NetOp::Flatten:
        out = {static_cast<int>(n)};
        break;
      case NetOp::GRU: case NetOp::LSTM: {
        const int G = p.op == NetOp::GRU ? 3 : 4;
        const int T = step ? 1 : in.front();
        const int F = in.back();
        if (static_cast<long>(p.w.size()) != static_cast<long>(F) * G * p.units)
          throw std::runtime_error(p.name + ": recurrent kernel size");
        *macs += static_cast<long>(T) * (F + p.units) * G * p.units;
        if (step || !p.return_sequences) out = {p.units};
        else out = {T, p.units};
        break;
      }
    }
    return out;
  }

  void run(const float* x, float* y, bool step) {
    const float* cur = x;
    int pb = 0;
    for (std::size_t i = 0; i < ls_.size(); ++i) {
      L& l = ls_[i];
      if (l.p.op == NetOp::Flatten) continue;
      float* o = buf_[pb].data();
      pb ^= 1;
      layer(l, step ? l.sin : l.in, step ? l.sout : l.out, step ? l.sg : l.g, cur, o, step);
      cur = o;
    }
    std::memcpy(y, cur, sizeof(float) * static_cast<std::size_t>(step ? step_out_ : out_size_));
  }

  void layer(L& l, const std::vector<int>& in, const std::vector<int>& out, const Geo& g, const float* x,
             float* y, bool step) {
    const NetLayer& p = l.p;
    const long n_in = prod(in), n_out = prod(out);
    switch (p.op) {
      case NetOp::Dense: {
        const int K = in.empty() ? 1 : in.back();
        for (long r = 0; r < n_in / K; ++r)
          dense_loop(x + r * K, p.w.data(), p.b.data(), y + r * p.units, K, p.units);
        act_rows(y, n_out, p.units, p.act);
        break;
      }
      case NetOp::Conv: case NetOp::Depthwise: case NetOp::Separable: {
        const bool dw = p.op != NetOp::Conv;
        const int M = p.depth_multiplier;
        const int oc = dw ? g.C * M : p.units;           // channels of this loop nest's output
        float* o0 = p.op == NetOp::Separable ? buf_[2].data() : y;
        for (int oy = 0; oy < g.OH; ++oy)
          for (int ox = 0; ox < g.OW; ++ox) {
            float* __restrict o = o0 + (static_cast<long>(oy) * g.OW + ox) * oc;
            for (int f = 0; f < oc; ++f) o[f] = p.op == NetOp::Separable ? 0.0f : p.b[f];
            for (int ky = 0; ky < p.kh; ++ky) {
              const int iy = oy * p.sh + ky * p.dh - g.ph;
              if (iy < 0 || iy >= g.H) continue;
              for (int kx = 0; kx < p.kw; ++kx) {
                const int ix = ox * p.sw + kx * p.dw - g.pw;
                if (ix < 0 || ix >= g.W) continue;
                const float* __restrict xp = x + (static_cast<long>(iy) * g.W + ix) * g.C;
                const float* __restrict wp = p.w.data() + (static_cast<long>(ky) * p.kw + kx) * g.C * (dw ? M : oc);
                if (dw && M == 1) {
                  for (int c = 0; c < g.C; ++c) o[c] += xp[c] * wp[c];
                } else if (dw) {
                  for (int c = 0; c < g.C; ++c)
                    for (int m = 0; m < M; ++m) o[c * M + m] += xp[c] * wp[c * M + m];
                } else {
                  for (int c = 0; c < g.C; ++c) {
                    const float xv = xp[c];
                    const float* __restrict wr = wp + static_cast<long>(c) * oc;
                    for (int f = 0; f < oc; ++f) o[f] += xv * wr[f];
                  }
                }
              }
            }
          }
        if (p.op == NetOp::Separable) {  // pointwise: a Dense over every pixel
          const long pix = static_cast<long>(g.OH) * g.OW;
          for (long r = 0; r < pix; ++r) dense_loop(o0 + r * oc, p.w2.data(), p.b.data(), y + r * p.units, oc, p.units);
        }
        act_rows(y, n_out, out.back(), p.act);
        break;
      }
      case NetOp::Pool: {
        for (int oy = 0; oy < g.OH; ++oy)
          for (int ox = 0; ox < g.OW; ++ox) {
            float* __restrict o = y + (static_cast<long>(oy) * g.OW + ox) * g.C;
            for (int c = 0; c < g.C; ++c) o[c] = p.max ? -INFINITY : 0.0f;
            int cnt = 0;
            for (int ky = 0; ky < p.kh; ++ky) {
              const int iy = oy * p.sh + ky - g.ph;
              if (iy < 0 || iy >= g.H) continue;
              for (int kx = 0; kx < p.kw; ++kx) {
                const int ix = ox * p.sw + kx - g.pw;
                if (ix < 0 || ix >= g.W) continue;
                const float* __restrict xp = x + (static_cast<long>(iy) * g.W + ix) * g.C;
                ++cnt;
                if (p.max)
                  for (int c = 0; c < g.C; ++c) o[c] = xp[c] > o[c] ? xp[c] : o[c];
                else
                  for (int c = 0; c < g.C; ++c) o[c] += xp[c];
              }
            }
            if (!p.max)
              for (int c = 0; c < g.C; ++c) o[c] /= static_cast<float>(cnt);
          }
        break;
      }
      case NetOp::GlobalPool: {
        const long rows = static_cast<long>(g.H) * g.W;
        for (int c = 0; c < g.C; ++c) y[c] = p.max ? x[c] : 0.0f;
        for (long r = p.max ? 1 : 0; r < rows; ++r)
          for (int c = 0; c < g.C; ++c) {
            const float v = x[r * g.C + c];
            y[c] = p.max ? (v > y[c] ? v : y[c]) : y[c] + v;
          }
        if (!p.max)
          for (int c = 0; c < g.C; ++c) y[c] /= static_cast<float>(rows);
        break;
      }
      case NetOp::Embedding: {
        const int D = p.units;
        for (long i = 0; i < n_in; ++i) {
          long k = static_cast<long>(x[i]);
          k = k < 0 ? 0 : (k >= p.vocab ? p.vocab - 1 : k);
          std::memcpy(y + i * D, p.w.data() + k * D, sizeof(float) * D);
        }
        break;
      }
      case NetOp::LayerNorm: {
        const int K = in.back();
        for (long r = 0; r < n_in; r += K) {
          const float* xr = x + r;
          float* yr = y + r;
          float mean = 0.0f;
          for (int j = 0; j < K; ++j) mean += xr[j];
          mean /= static_cast<float>(K);
          float var = 0.0f;
          for (int j = 0; j < K; ++j) var += (xr[j] - mean) * (xr[j] - mean);
          var /= static_cast<float>(K);
          const float inv = 1.0f / std::sqrt(var + p.eps);
          for (int j = 0; j < K; ++j) {
            float v = (xr[j] - mean) * inv;
            if (!p.gamma.empty()) v *= p.gamma[j];
            if (!p.beta.empty()) v += p.beta[j];
            yr[j] = v;
          }
        }
        break;
      }
      case NetOp::BatchNorm: {
        const int K = in.back();
        for (long r = 0; r < n_in; r += K)
          for (int j = 0; j < K; ++j) y[r + j] = x[r + j] * p.gamma[j] + p.beta[j];
        break;
      }
      case NetOp::Act:
        std::memcpy(y, x, sizeof(float) * n_in);
        act_rows(y, n_in, in.empty() ? 1 : in.back(), p.act);
        break;
      case NetOp::Flatten:
        break;
      case NetOp::GRU: case NetOp::LSTM: {
        const int T = step ? 1 : in.front();
        const int F = in.back(), U = p.units;
        float* h = step ? l.h.data() : hs_.data();
        float* c = step ? l.c.data() : cs_.data();
        if (!step) {
          std::fill(hs_.begin(), hs_.begin() + U, 0.0f);
          std::fill(cs_.begin(), cs_.begin() + U, 0.0f);
        }
        for (int t = 0; t < T; ++t) {
          if (p.op == NetOp::GRU) gru_step(p, x + static_cast<long>(t) * F, F, h);
          else lstm_step(p, x + static_cast<long>(t) * F, F, h, c);
          if (p.return_sequences && !step) std::memcpy(y + static_cast<long>(t) * U, h, sizeof(float) * U);
        }
        if (!p.return_sequences || step) std::memcpy(y, h, sizeof(float) * U);
        break;
      }
    }
  }

  // h = GRU(x_t, h): gates z, r, h (Keras order), reset_after True (bias [2][3U]) or False (bias [3U]).
  void gru_step(const NetLayer& p, const float* x, int F, float* h) {
    const int U = p.units, G = 3 * U;
    float* xw = gx_.data();
    float* hu = gh_.data();
    const bool bias = !p.b.empty();
    for (int j = 0; j < G; ++j) xw[j] = bias ? p.b[j] : 0.0f;
    for (int f = 0; f < F; ++f) {
      const float xv = x[f];
      const float* wr = p.w.data() + static_cast<long>(f) * G;
      for (int j = 0; j < G; ++j) xw[j] += xv * wr[j];
    }
    if (p.reset_after) {
      for (int j = 0; j < G; ++j) hu[j] = bias ? p.b[G + j] : 0.0f;
      for (int k = 0; k < U; ++k) {
        const float hv = h[k];
        const float* ur = p.w2.data() + static_cast<long>(k) * G;
        for (int j = 0; j < G; ++j) hu[j] += hv * ur[j];
      }
      for (int u = 0; u < U; ++u) {
        const float z = act1(xw[u] + hu[u], p.rec_act);
        const float r = act1(xw[U + u] + hu[U + u], p.rec_act);
        const float hh = act1(xw[2 * U + u] + r * hu[2 * U + u], p.act);
        h[u] = z * h[u] + (1.0f - z) * hh;
      }
    } else {
      for (int j = 0; j < 2 * U; ++j) hu[j] = 0.0f;
      for (int k = 0; k < U; ++k) {
        const float hv = h[k];
        const float* ur = p.w2.data() + static_cast<long>(k) * G;
        for (int j = 0; j < 2 * U; ++j) hu[j] += hv * ur[j];
      }
      float* rh = rh_.data();
      for (int u = 0; u < U; ++u) rh[u] = act1(xw[U + u] + hu[U + u], p.rec_act) * h[u];
      for (int j = 0; j < U; ++j) hu[2 * U + j] = 0.0f;
      for (int k = 0; k < U; ++k) {
        const float* ur = p.w2.data() + static_cast<long>(k) * G + 2 * U;
        for (int j = 0; j < U; ++j) hu[2 * U + j] += rh[k] * ur[j];
      }
      for (int u = 0; u < U; ++u) {
        const float z = act1(xw[u] + hu[u], p.rec_act);
        const float hh = act1(xw[2 * U + u] + hu[2 * U + u], p.act);
        h[u] = z * h[u] + (1.0f - z) * hh;
      }
    }
  }

  // (h, c) = LSTM(x_t, h, c): gates i, f, c, o (Keras order).
  void lstm_step(const NetLayer& p, const float* x, int F, float* h, float* c) {
    const int U = p.units, G = 4 * U;
    float* z = gx_.data();
    for (int j = 0; j < G; ++j) z[j] = p.b.empty() ? 0.0f : p.b[j];
    for (int f = 0; f < F; ++f) {
      const float xv = x[f];
      const float* wr = p.w.data() + static_cast<long>(f) * G;
      for (int j = 0; j < G; ++j) z[j] += xv * wr[j];
    }
    for (int k = 0; k < U; ++k) {
      const float hv = h[k];
      const float* ur = p.w2.data() + static_cast<long>(k) * G;
      for (int j = 0; j < G; ++j) z[j] += hv * ur[j];
    }
    for (int u = 0; u < U; ++u) {
      const float i = act1(z[u], p.rec_act), f = act1(z[U + u], p.rec_act);
      const float g = act1(z[2 * U + u], p.act), o = act1(z[3 * U + u], p.rec_act);
      c[u] = f * c[u] + i * g;
      h[u] = o * act1(c[u], p.act);
    }
  }

  std::vector<L> ls_;
  std::vector<float> buf_[3], gx_, gh_, hs_, cs_, rh_;
  int in_size_ = 0, out_size_ = 0, step_in_ = 0, step_out_ = 0;
  bool can_step_ = false;
};

// ---------------------------------------------------------------------------------------------
// Eigen
// ---------------------------------------------------------------------------------------------
template <class Vec>
void act_eigen(Vec& h, const ActSpec& a) {
  auto A = h.array();
  switch (a.kind) {
    case ActKind::Linear: break;
    case ActKind::Relu: h = A.max(0.0f).matrix(); break;
    case ActKind::Sigmoid: h = A.logistic().matrix(); break;
    case ActKind::Elu: h = (A > 0.0f).select(A, a.alpha * (A.exp() - 1.0f)).matrix(); break;
    case ActKind::Leaky: h = (A < 0.0f).select(a.alpha * A, A).matrix(); break;
    case ActKind::Tanh: h = A.tanh().matrix(); break;
    case ActKind::Softmax: h = (A - A.maxCoeff()).exp().matrix(); h /= h.sum(); break;
  }
}

// One layer: W is [out x in] (the transpose of the Keras kernel; the Keras row-major [in][out]
// kernel IS that matrix in Eigen's default column-major order), h = b; h += W x.
template <class Mat, class Vec>
struct ELayer {
  Mat W;
  Vec b, h;
  std::vector<ActSpec> acts;
  void init(const DenseSpec& d) {
    W = Eigen::Map<const Eigen::MatrixXf>(d.kernel.data(), d.out, d.in);
    b = Eigen::Map<const Eigen::VectorXf>(d.bias.data(), d.out);
    h = b;
    acts = d.acts;
  }
  template <class In>
  void run(const In& x) {
    h = b;
    h.noalias() += W * x;
    for (const ActSpec& a : acts) act_eigen(h, a);
  }
};

class EigenDynamicModel final : public Impl {
  using L = ELayer<Eigen::MatrixXf, Eigen::VectorXf>;

 public:
  explicit EigenDynamicModel(const ModelSpec& m) : in_(m.in_size()), ls_(m.layers.size()) {
    for (std::size_t l = 0; l < ls_.size(); ++l) ls_[l].init(m.layers[l]);
  }
  void predict(const float* x, float* y) override {
    ls_[0].run(Eigen::Map<const Eigen::VectorXf>(x, in_));
    for (std::size_t l = 1; l < ls_.size(); ++l) ls_[l].run(ls_[l - 1].h);
    Eigen::Map<Eigen::VectorXf> out(y, ls_.back().h.size());
    out = ls_.back().h;
  }

 private:
  int in_;
  std::vector<L> ls_;
};

template <int In, int Out>
using FixedLayer = ELayer<Eigen::Matrix<float, Out, In>, Eigen::Matrix<float, Out, 1>>;

template <class Seq, int... D>
struct FixedLayers;
template <std::size_t... I, int... D>
struct FixedLayers<std::index_sequence<I...>, D...> {
  static constexpr int dims[sizeof...(D)] = {D...};
  using type = std::tuple<FixedLayer<dims[I], dims[I + 1]>...>;
};

template <int... D>
class EigenFixedModel final : public Impl {
  static constexpr int kDims[sizeof...(D)] = {D...};
  static constexpr std::size_t kN = sizeof...(D) - 1;
  using Layers = typename FixedLayers<std::make_index_sequence<kN>, D...>::type;

 public:
  static bool matches(const ModelSpec& m) {
    if (m.layers.size() != kN) return false;
    for (std::size_t l = 0; l < kN; ++l)
      if (m.layers[l].in != kDims[l] || m.layers[l].out != kDims[l + 1]) return false;
    return true;
  }
  explicit EigenFixedModel(const ModelSpec& m) { init(m, std::make_index_sequence<kN>()); }
  void predict(const float* x, float* y) override {
    std::get<0>(ls_).run(Eigen::Map<const Eigen::Matrix<float, kDims[0], 1>>(x));
    run_rest(std::make_index_sequence<kN - 1>());
    Eigen::Map<Eigen::Matrix<float, kDims[kN], 1>> out(y);
    out = std::get<kN - 1>(ls_).h;
  }

 private:
  template <std::size_t... I>
  void init(const ModelSpec& m, std::index_sequence<I...>) {
    (std::get<I>(ls_).init(m.layers[I]), ...);
  }
  template <std::size_t... I>
  void run_rest(std::index_sequence<I...>) {
    (std::get<I + 1>(ls_).run(std::get<I>(ls_).h), ...);
  }
  Layers ls_;
};

template <int... D>
std::unique_ptr<Impl> try_fixed(const ModelSpec& m) {
  if (!EigenFixedModel<D...>::matches(m)) return nullptr;
  return std::make_unique<EigenFixedModel<D...>>(m);
}

}  // namespace

std::unique_ptr<Impl> make_scalar(const ModelSpec& m) { return std::make_unique<ScalarModel>(m); }
namespace {

// y[r][o] = b[o] + sum_i x[r][i] * w[i][o] for r < rows.
void matmul_bias(const float* x, const float* w, const float* b, float* y, int rows, int in, int out) {
  for (int r = 0; r < rows; ++r) {
    float* yr = y + r * out;
    for (int o = 0; o < out; ++o) yr[o] = b[o];
    for (int i = 0; i < in; ++i) {
      const float xi = x[r * in + i];
      const float* wi = w + i * out;
      for (int o = 0; o < out; ++o) yr[o] += xi * wi[o];
    }
  }
}

// x[r] = LayerNorm(x[r] + a[r]) over d, for r < rows.
void add_layer_norm(float* x, const float* a, const std::vector<float>& gamma, const std::vector<float>& beta,
                    int rows, int d, float eps) {
  for (int r = 0; r < rows; ++r) {
    float* xr = x + r * d;
    float mean = 0.0f, var = 0.0f;
    for (int j = 0; j < d; ++j) mean += (xr[j] += a[r * d + j]);
    mean /= static_cast<float>(d);
    for (int j = 0; j < d; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(d) + eps);
    for (int j = 0; j < d; ++j) xr[j] = (xr[j] - mean) * inv * gamma[j] + beta[j];
  }
}

class ScalarTransformer final : public Impl {
 public:
  explicit ScalarTransformer(const TransformerSpec& s)
      : s_(s), x_(s.seq * s.d), q_(s.seq * s.heads * s.key_dim), k_(q_.size()), v_(q_.size()), ctx_(q_.size()),
        a_(s.seq * s.d), f_(s.seq * s.ff), p_(s.seq) {}

  void predict(const float* tokens, float* y) override {
    const int T = s_.seq, D = s_.d, H = s_.heads, K = s_.key_dim, HK = H * K;
    for (int t = 0; t < T; ++t) {
      const int id = std::min(std::max(static_cast<int>(tokens[t]), 0), s_.vocab - 1);
      std::copy_n(s_.embed.data() + static_cast<std::size_t>(id) * D, D, x_.data() + t * D);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(K));
    for (const TransformerSpec::Block& b : s_.blocks) {
      matmul_bias(x_.data(), b.wq.data(), b.bq.data(), q_.data(), T, D, HK);
      matmul_bias(x_.data(), b.wk.data(), b.bk.data(), k_.data(), T, D, HK);
      matmul_bias(x_.data(), b.wv.data(), b.bv.data(), v_.data(), T, D, HK);
      for (int h = 0; h < H; ++h)
        for (int t = 0; t < T; ++t) {  // softmax over the keys of (q_t * scale) . k_u
          float m = -INFINITY;
          for (int u = 0; u < T; ++u) {
            float dot = 0.0f;
            for (int j = 0; j < K; ++j) dot += q_[t * HK + h * K + j] * scale * k_[u * HK + h * K + j];
            p_[u] = dot;
            m = std::max(m, dot);
          }
          float sum = 0.0f;
          for (int u = 0; u < T; ++u) sum += (p_[u] = std::exp(p_[u] - m));
          for (int j = 0; j < K; ++j) {
            float c = 0.0f;
            for (int u = 0; u < T; ++u) c += p_[u] * v_[u * HK + h * K + j];
            ctx_[t * HK + h * K + j] = c / sum;
          }
        }
      matmul_bias(ctx_.data(), b.wo.data(), b.bo.data(), a_.data(), T, HK, D);
      add_layer_norm(x_.data(), a_.data(), b.gamma1, b.beta1, T, D, s_.eps);
      matmul_bias(x_.data(), b.w1.data(), b.b1.data(), f_.data(), T, D, s_.ff);
      for (float& v : f_) v = std::max(v, 0.0f);
      matmul_bias(f_.data(), b.w2.data(), b.b2.data(), a_.data(), T, s_.ff, D);
      add_layer_norm(x_.data(), a_.data(), b.gamma2, b.beta2, T, D, s_.eps);
    }
    std::vector<float>& pooled = a_;  // the mean over time, then the head
    for (int j = 0; j < D; ++j) {
      float m = 0.0f;
      for (int t = 0; t < T; ++t) m += x_[t * D + j];
      pooled[j] = m / static_cast<float>(T);
    }
    matmul_bias(pooled.data(), s_.head_w.data(), s_.head_b.data(), y, 1, D, s_.classes);
    float m = -INFINITY, sum = 0.0f;
    for (int c = 0; c < s_.classes; ++c) m = std::max(m, y[c]);
    for (int c = 0; c < s_.classes; ++c) sum += (y[c] = std::exp(y[c] - m));
    for (int c = 0; c < s_.classes; ++c) y[c] /= sum;
  }

 private:
  TransformerSpec s_;
  std::vector<float> x_, q_, k_, v_, ctx_, a_, f_, p_;
};

}  // namespace

std::unique_ptr<Impl> make_scalar_transformer(const TransformerSpec& s, long* macs) {
  const long T = s.seq, D = s.d, HK = static_cast<long>(s.heads) * s.key_dim;
  *macs = static_cast<long>(s.blocks.size()) * (4 * T * D * HK + 2 * T * T * HK + 2 * T * D * s.ff) + D * s.classes;
  return std::make_unique<ScalarTransformer>(s);
}

namespace {

// RTNeural's Eigen activations (its default MathsProvider for the Eigen backend).
template <class V>
V rt_sigmoid(const V& x) { return (1.0f / (1.0f + (-x.array()).exp())).matrix(); }
template <class V>
V rt_tanh(const V& x) { return x.array().tanh().matrix(); }

// Gate g's columns of a Keras kernel [rows][G*U] as an Eigen [U x rows] matrix.
template <class M>
M gate_matrix(const std::vector<float>& k, int rows, int G, int U, int g) {
  M m;
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < U; ++j) m(j, r) = k[static_cast<std::size_t>(r) * G * U + g * U + j];
  return m;
}
template <class V>
V gate_vector(const std::vector<float>& b, int offset, int U) {
  V v;
  for (int j = 0; j < U; ++j) v(j) = b.empty() ? 0.0f : b[static_cast<std::size_t>(offset + j)];
  return v;
}

template <int F, int U>
struct RtGru {  // reset_after=True: z, r, h gates; bias [2][3U] (input row, recurrent row)
  using MW = Eigen::Matrix<float, U, F>;
  using MU = Eigen::Matrix<float, U, U>;
  using V = Eigen::Matrix<float, U, 1>;
  MW wz, wr, wc;
  MU uz, ur, uc;
  V bz, br, bc_in, bc_rec, h;
  explicit RtGru(const NetLayer& l) {
    wz = gate_matrix<MW>(l.w, F, 3, U, 0), wr = gate_matrix<MW>(l.w, F, 3, U, 1), wc = gate_matrix<MW>(l.w, F, 3, U, 2);
    uz = gate_matrix<MU>(l.w2, U, 3, U, 0), ur = gate_matrix<MU>(l.w2, U, 3, U, 1), uc = gate_matrix<MU>(l.w2, U, 3, U, 2);
    bz = gate_vector<V>(l.b, 0, U) + gate_vector<V>(l.b, 3 * U, U);
    br = gate_vector<V>(l.b, U, U) + gate_vector<V>(l.b, 4 * U, U);
    bc_in = gate_vector<V>(l.b, 2 * U, U), bc_rec = gate_vector<V>(l.b, 5 * U, U);
    h.setZero();
  }
  void reset() { h.setZero(); }
  void step(const Eigen::Matrix<float, F, 1>& x) {
    const V z = rt_sigmoid<V>(wz * x + uz * h + bz);
    const V r = rt_sigmoid<V>(wr * x + ur * h + br);
    const V c = rt_tanh<V>(wc * x + bc_in + r.cwiseProduct(uc * h + bc_rec));
    h = (V::Ones() - z).cwiseProduct(c) + z.cwiseProduct(h);
  }
};

template <int F, int U>
struct RtLstm {  // gates i, f, c, o; bias [4U]
  using MW = Eigen::Matrix<float, U, F>;
  using MU = Eigen::Matrix<float, U, U>;
  using V = Eigen::Matrix<float, U, 1>;
  MW wi, wf, wc, wo;
  MU ui, uf, uc, uo;
  V bi, bf, bc, bo, h, c;
  explicit RtLstm(const NetLayer& l) {
    wi = gate_matrix<MW>(l.w, F, 4, U, 0), wf = gate_matrix<MW>(l.w, F, 4, U, 1);
    wc = gate_matrix<MW>(l.w, F, 4, U, 2), wo = gate_matrix<MW>(l.w, F, 4, U, 3);
    ui = gate_matrix<MU>(l.w2, U, 4, U, 0), uf = gate_matrix<MU>(l.w2, U, 4, U, 1);
    uc = gate_matrix<MU>(l.w2, U, 4, U, 2), uo = gate_matrix<MU>(l.w2, U, 4, U, 3);
    bi = gate_vector<V>(l.b, 0, U), bf = gate_vector<V>(l.b, U, U), bc = gate_vector<V>(l.b, 2 * U, U);
    bo = gate_vector<V>(l.b, 3 * U, U);
    reset();
  }
  void reset() { h.setZero(), c.setZero(); }
  void step(const Eigen::Matrix<float, F, 1>& x) {
    const V f = rt_sigmoid<V>(wf * x + uf * h + bf);
    const V i = rt_sigmoid<V>(wi * x + ui * h + bi);
    const V o = rt_sigmoid<V>(wo * x + uo * h + bo);
    const V ct = rt_tanh<V>(wc * x + uc * h + bc);
    c = f.cwiseProduct(c) + i.cwiseProduct(ct);
    h = o.cwiseProduct(rt_tanh<V>(c));
  }
};

template <class Cell, int F, int U>
class RtRnnModel final : public Impl {
 public:
  RtRnnModel(const NetSpec& m, int T) : cell_(m.layers[0]), T_(T) {
    for (int j = 0; j < U; ++j) w_(0, j) = m.layers[1].w[static_cast<std::size_t>(j)];
    b_ = m.layers[1].b.empty() ? 0.0f : m.layers[1].b[0];
  }
  void predict(const float* x, float* y) override {
    cell_.reset();
    for (int t = 0; t < T_; ++t) step(x + t * F, y + t);
  }
  bool can_step() const override { return true; }
  void reset() override { cell_.reset(); }
  void step(const float* x, float* y) override {
    cell_.step(Eigen::Map<const Eigen::Matrix<float, F, 1>>(x));
    y[0] = (w_ * cell_.h)(0) + b_;
  }
  int step_in_size() const override { return F; }
  int step_out_size() const override { return 1; }

 private:
  Cell cell_;
  Eigen::Matrix<float, 1, U> w_;
  float b_ = 0.0f;
  int T_;
};

template <int F, int U>
std::unique_ptr<Impl> rt_rnn(const NetSpec& m, int T) {
  if (m.layers[0].op == NetOp::GRU) return std::make_unique<RtRnnModel<RtGru<F, U>, F, U>>(m, T);
  return std::make_unique<RtRnnModel<RtLstm<F, U>, F, U>>(m, T);
}

}  // namespace

std::unique_ptr<Impl> make_eigen_rnn(const NetSpec& m) {
  if (m.layers.size() != 2 || m.in_shape.size() != 2) return nullptr;
  const NetLayer& r = m.layers[0];
  const NetLayer& d = m.layers[1];
  if ((r.op != NetOp::GRU && r.op != NetOp::LSTM) || !r.return_sequences || (r.op == NetOp::GRU && !r.reset_after) ||
      r.act.kind != ActKind::Tanh || r.rec_act.kind != ActKind::Sigmoid || d.op != NetOp::Dense || d.units != 1 ||
      d.act.kind != ActKind::Linear || r.units != 32)
    return nullptr;
  const int T = m.in_shape[0], F = m.in_shape[1];
  if (F == 1) return rt_rnn<1, 32>(m, T);
  if (F == 3) return rt_rnn<3, 32>(m, T);
  return nullptr;
}

std::unique_ptr<Impl> make_scalar_net(const NetSpec& m, int* out_size, long* macs, long* step_macs) {
  return std::make_unique<ScalarNet>(m, out_size, macs, step_macs);
}
std::unique_ptr<Impl> make_eigen_dynamic(const ModelSpec& m) {
  return std::make_unique<EigenDynamicModel>(m);
}
std::unique_ptr<Impl> make_eigen_fixed(const ModelSpec& m) {
  // The benchmark's models: summary walkthrough, Dense 8->8, 64->64, 64->64->64.
  if (auto p = try_fixed<3, 32, 32, 16, 5>(m)) return p;
  if (auto p = try_fixed<8, 8>(m)) return p;
  if (auto p = try_fixed<64, 64>(m)) return p;
  if (auto p = try_fixed<64, 64, 64>(m)) return p;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Machine facts
// ---------------------------------------------------------------------------------------------
std::string eigen_version() {
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

namespace {
// Thread CPU time in ns: time spent descheduled (busy machine) does not count.
double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
}  // namespace

double measure_core_ghz(int reps, long iters) {
#if defined(__x86_64__)
  // A chain of dependent 64-bit imul (3-cycle latency on every Intel core since Nehalem and on
  // AMD Zen). Not `add $imm`: Golden Cove-class cores fold immediate adds at rename, so a
  // dependent add chain can retire more than one add per cycle.
  double best = 0.0;
  for (int rep = 0; rep < reps; ++rep) {
    std::uint64_t v = 3;
    const double t0 = thread_ns();
    for (long i = 0; i < iters; ++i)
      asm volatile(".rept 100\n\timulq %0, %0\n\t.endr" : "+r"(v));
    const double ns = thread_ns() - t0;
    const double ghz = static_cast<double>(iters) * 300.0 / ns;
    best = ghz > best ? ghz : best;
  }
  return best;
#else
  (void)reps;
  (void)iters;
  return 0.0;
#endif
}

double measure_fma_lanes_per_cycle(bool avx512, double core_ghz, int reps, long iters) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (core_ghz <= 0.0) return 0.0;
  if (avx512 ? !__builtin_cpu_supports("avx512f") : !__builtin_cpu_supports("fma")) return 0.0;
  double best_ns = 1e300;
  for (int rep = 0; rep < reps; ++rep) {
    std::uint64_t n = static_cast<std::uint64_t>(iters);
    // One asm loop: zero 14 registers once, then 12 independent accumulator chains
    // (acc += 0 * 0), enough to cover 4-cycle latency x 2 FMA ports; counter in a GPR.
#define BENCH_FMA_LOOP(R)                                                                 \
  asm volatile(                                                                          \
      "vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t"               \
      "vxorps %%xmm2, %%xmm2, %%xmm2\n\tvxorps %%xmm3, %%xmm3, %%xmm3\n\t"               \
      "vxorps %%xmm4, %%xmm4, %%xmm4\n\tvxorps %%xmm5, %%xmm5, %%xmm5\n\t"               \
      "vxorps %%xmm6, %%xmm6, %%xmm6\n\tvxorps %%xmm7, %%xmm7, %%xmm7\n\t"               \
      "vxorps %%xmm8, %%xmm8, %%xmm8\n\tvxorps %%xmm9, %%xmm9, %%xmm9\n\t"               \
      "vxorps %%xmm10, %%xmm10, %%xmm10\n\tvxorps %%xmm11, %%xmm11, %%xmm11\n\t"         \
      "vxorps %%xmm14, %%xmm14, %%xmm14\n\tvxorps %%xmm15, %%xmm15, %%xmm15\n\t"         \
      ".p2align 5\n1:\n\t"                                                               \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "0\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "1\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "2\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "3\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "4\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "5\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "6\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "7\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "8\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "9\n\t" \
      "vfmadd231ps %%" R "14, %%" R "15, %%" R "10\n\tvfmadd231ps %%" R "14, %%" R "15, %%" R "11\n\t" \
      "decq %0\n\tjnz 1b\n\tvzeroupper\n\t"                                              \
      : "+r"(n)                                                                          \
      :                                                                                  \
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",     \
        "xmm10", "xmm11", "xmm14", "xmm15", "cc")
    const double t0 = thread_ns();
    if (avx512)
      BENCH_FMA_LOOP("zmm");
    else
      BENCH_FMA_LOOP("ymm");
#undef BENCH_FMA_LOOP
    const double ns = thread_ns() - t0;
    best_ns = ns < best_ns ? ns : best_ns;
  }
  const double cycles = best_ns * core_ghz;
  return static_cast<double>(iters) * 12.0 * (avx512 ? 16.0 : 8.0) / cycles;
#else
  (void)avx512;
  (void)core_ghz;
  (void)reps;
  (void)iters;
  return 0.0;
#endif
}

}  // namespace bench
