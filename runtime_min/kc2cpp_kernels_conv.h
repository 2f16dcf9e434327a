// kc2cpp runtime: convolution and pooling kernels. Pasted after kc2cpp_kernels.h (uses kPad,
// kMaxAcc, round_up, madd and the act:: functors), inside `namespace <model> { namespace kc {`.
// Includes nothing.
//
// Operation order: exactly compiler/ir/ops_conv.h. A convolution's output element is a blocked sum
// over the valid taps in (kh, kw, c) order: the terms of each block of kConvBlock consecutive
// kernel positions summed in order from +0, the block sums added in order (padded taps are skipped,
// no operation), then + bias, then the activation; pooling and depthwise sums are sequential.
// Vectors run across output channels; register blocks of P output pixels x NB vectors of channels
// give the instruction-level parallelism. Neither the register block shape nor kLanes ever changes
// an output's sequence of operations.
//
// Memory: outputs live in the arena (kPad floats of slack); conv weights are packed by
// plan/pack_conv.cpp in rows of output channels, row_floats(F/G) apart, biases as
// [groups][row_floats(F/G)] (kc2cpp_kernels.h: weight rows). The
// input may be the caller's array (no slack): kernels that load input vectors read a channel row's
// last partial vector as its own floats only (load_channels). No pointer is ever formed
// outside an array: offsets are computed as ints and only valid taps are added to a pointer.

// Geometry of ir::ConvGeom: input [H][W][C], output [OH][OW][OC], window KH x KW, strides SH, SW,
// dilations DH, DW, padding before PT, PL (transposed convolution: its gather offsets).
template <int H_, int W_, int C_, int OH_, int OW_, int OC_, int KH_, int KW_, int SH_, int SW_, int DH_, int DW_,
          int PT_, int PL_>
struct Geom {
  static constexpr int H = H_, W = W_, C = C_, OH = OH_, OW = OW_, OC = OC_;
  static constexpr int KH = KH_, KW = KW_, SH = SH_, SW = SW_, DH = DH_, DW = DW_, PT = PT_, PL = PL_;
};

// The valid taps [lo, hi) of output o along one axis: input o*S - P + k*D in [0, N).
struct TapRange {
  int lo, hi;
  constexpr bool full(int k) const { return lo == 0 && hi == k; }
  constexpr int count() const { return hi > lo ? hi - lo : 0; }
};
constexpr TapRange tap_range(int o, int S, int P, int D, int K, int N) {
  const int i0 = o * S - P;
  const int lo = i0 >= 0 ? 0 : (-i0 + D - 1) / D;
  const int last = N - 1 - i0;  // k*D <= last
  const int hi = last < 0 ? 0 : (last / D + 1 < K ? last / D + 1 : K);
  return {lo, hi};
}

// Writes lanes [0, n) of a to p, nothing else.
inline void store_first(float* p, vf a, int n) {
#if defined(KC2CPP_ISA_AVX512)
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), a.v);
#else
  vstore_n(p, a, n);
#endif
}

// Register block of the convolution kernels: NB vectors of output channels x P output pixels.
// conv_tap keeps P x NB accumulators, the P pixels' broadcast inputs and a weight vector live, and
// unfused a product too. P is the largest (up to 8) for which they fit the vector registers, except
// that a kernel of more than 32 KB (weights no longer in L1 from block to block: each block of
// pixels streams them) keeps the P without the product's register: a spilled accumulator costs less
// there than the extra pass over the weights (AVX2: temporal_conv1d's small kernels 1.1x faster
// spill-free, g++ and clang, both --fp modes; unfused conv_stack_dense4d's 73 and 295 KB kernels were
// 1.22x slower at P = 2 than at 3). The block shape changes no sum: same bits for any P.
constexpr int conv_nb(int nv) { return nv < 4 && nv <= kMaxAcc ? nv : (kMaxAcc < 4 ? kMaxAcc : 4); }
constexpr int conv_p(int nb, bool fused, long weight_floats) {
  const int temp = fused || weight_floats * 4 > 32768 ? 0 : 1;
  int p = kMaxAcc / nb < 8 ? kMaxAcc / nb : 8;
  while (p > 1 && p * nb + p + 1 + temp > kVectorRegs) --p;
  return p;
}

// Terms c = 0, 1, ..., n-1 for P pixels: acc[p][v] += x[xo[p] + c0 + c] * w[c*LDW + v*kLanes].
template <int LDW, int NB, int P, bool Fused>
KC2CPP_ALWAYS_INLINE inline void conv_tap(const float* x, const int (&xo)[P], int c0, const float* w, int n, vf (&acc)[P][NB]) {
  // clang 14 vectorises x[xo[p] + c0 + c] (c added to all P offsets in a vector, each lane then
  // extracted, on every term: 1.5x g++'s time on a Conv1D stack), so under clang the pixels' row
  // pointers are taken once, before the loop; g++ keeps the offsets in registers and is 7% faster
  // with the indices (the same loads and sums either way).
#if defined(__clang__)
  const float* xp[P];
KC2CPP_UNROLL(8)
  for (int p = 0; p < P; ++p) xp[p] = x + (xo[p] + c0);  // the first term's index: in bounds
#endif
KC2CPP_UNROLL(1)
  for (int c = 0; c < n; ++c) {
    vf xs[P];
#if defined(__clang__)
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p) xs[p] = vsplat(xp[p][c]);
#else
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p) xs[p] = vsplat(x[xo[p] + c0 + c]);
#endif
KC2CPP_UNROLL(8)
    for (int v = 0; v < NB; ++v) {
      const vf wv = vload(w + c * LDW + v * kLanes);
KC2CPP_UNROLL(8)
      for (int p = 0; p < P; ++p) acc[p][v] = madd<Fused>(xs[p], wv, acc[p][v]);
    }
  }
}

// Kernel positions per block of a convolution's blocked sum (ir::kConvBlock, compiler/ir/ops_conv.h).
constexpr int kConvBlock = 64;

// The blocked sum of P output pixels x NB vectors of channels: acc holds the current block's sum.
// The sum of the blocks before it is kept in registers (tot) when there are registers for it, else
// in the outputs y + yo[p] (raw: no bias, no activation) from the first flush on. Loads and stores
// of a partial last vector (tail = its lanes, 0: full) touch only this output's own lanes.
// Single: the kernel has at most kConvBlock positions (one block: the sum is acc alone).
template <int NB, int P, bool Fused, bool Single>
struct ConvSum {
  static constexpr bool InReg = 2 * P * NB <= kMaxAcc;
  vf acc[P][NB];
  vf tot[InReg ? P : 1][InReg ? NB : 1];
  float* y;
  const int (&yo)[P];
  int tail;
  int cur = -1;        // block of the terms in acc; -1: none yet
  bool have = false;   // tot (or y) holds the earlier blocks' total

  KC2CPP_ALWAYS_INLINE ConvSum(float* y_, const int (&yo_)[P], int tail_) : y(y_), yo(yo_), tail(tail_) {
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
      for (int v = 0; v < NB; ++v) acc[p][v] = vzero();
    if constexpr (InReg) {
KC2CPP_UNROLL(8)
      for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
        for (int v = 0; v < NB; ++v) tot[p][v] = vzero();
    }
  }

  KC2CPP_ALWAYS_INLINE vf load_y(int p, int v) const {
    const float* q = y + yo[p] + v * kLanes;
    return tail > 0 && v == NB - 1 ? vload_n(q, tail) : vload(q);
  }

  // acc into the total (= acc for the first block, else total + acc); acc restarts at +0.
  KC2CPP_ALWAYS_INLINE void flush() {
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
      for (int v = 0; v < NB; ++v) {
        if constexpr (InReg) {
          tot[p][v] = have ? add(tot[p][v], acc[p][v]) : acc[p][v];
        } else {
          const vf t = have ? add(load_y(p, v), acc[p][v]) : acc[p][v];
          float* q = y + yo[p] + v * kLanes;
          if (tail > 0 && v == NB - 1) store_first(q, t, tail);
          else vstore(q, t);
        }
        acc[p][v] = vzero();
      }
    have = true;
  }

  // Kernel positions [r, r + N), contiguous in x (from xo[p]) and in w (rows of LDW floats).
  template <int LDW, int N>
  KC2CPP_ALWAYS_INLINE void terms(const float* x, const int (&xo)[P], const float* w, int r) {
    if (Single || (r / kConvBlock == cur && (r + N - 1) / kConvBlock == cur)) {  // inside the current block
      conv_tap<LDW, NB, P, Fused>(x, xo, 0, w, N, acc);
      return;
    }
    for (int c0 = 0, n = N; n > 0;) {
      const int b = r / kConvBlock;
      if (b != cur) {
        if (cur >= 0) flush();
        cur = b;
      }
      const int m = (b + 1) * kConvBlock - r < n ? (b + 1) * kConvBlock - r : n;
      conv_tap<LDW, NB, P, Fused>(x, xo, c0, w, m, acc);
      r += m, c0 += m, n -= m, w += m * LDW;
    }
  }

  // The total: the earlier blocks' sum plus acc. Every pixel's y is read before any is written
  // (a whole last vector stored for pixel p may spill into pixel p + 1's partial total).
  KC2CPP_ALWAYS_INLINE void total() {
    if (Single || !have) return;
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
      for (int v = 0; v < NB; ++v) {
        if constexpr (InReg) acc[p][v] = add(tot[p][v], acc[p][v]);
        else acc[p][v] = add(load_y(p, v), acc[p][v]);
      }
  }
};

// acc[p][v] for v < NB + bias, activation, stored at y + yo[p] + v*kLanes; when TAIL > 0 the last
// vector stores only its first TAIL lanes (another block or group already wrote what follows).
template <int NB, int P, int TAIL, bool HasBias, class Act>
inline void conv_store(vf (&acc)[P][NB], const float* b, float* y, const int (&yo)[P], Act f) {
KC2CPP_UNROLL(8)
  for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
    for (int v = 0; v < NB; ++v) {
      vf t = acc[p][v];
      if constexpr (HasBias) t = add(t, vload(b + v * kLanes));
      t = f(t);
      if (TAIL > 0 && v == NB - 1) store_first(y + yo[p] + v * kLanes, t, TAIL);
      else vstore(y + yo[p] + v * kLanes, t);
    }
}

// Conv1D/Conv2D with GROUPS groups (ir::ConvAttrs). w: [G][KH][KW][C/G][LDW], b: [G][LDW].
template <class G, int GROUPS, bool HasBias, bool Fused>
struct Conv {
  static constexpr int CG = G::C / GROUPS, FG = G::OC / GROUPS;
  static constexpr int LDW = row_floats(FG);
  static constexpr int NV = (FG + kLanes - 1) / kLanes;
  static constexpr int NB = conv_nb(NV), P = conv_p(NB, Fused, static_cast<long>(G::KH) * G::KW * CG * LDW);
  static constexpr int LASTN = NV % NB ? NV % NB : NB;  // vectors in the last block of channels
  static constexpr int JLAST = NV - LASTN;               // where it starts
  // Pixels are written in raster order, so a whole last vector only spills into outputs written
  // later, unless an earlier block of channels (or group) of the next pixel was written already.
  static constexpr int TAIL = (FG % kLanes != 0 && (GROUPS > 1 || NV > NB)) ? FG % kLanes : 0;
  static constexpr bool SINGLE = G::KH * G::KW * CG <= kConvBlock;  // one block of the blocked sum

  // Output pixels (input offsets xo of their tap (0,0), possibly negative; output offsets yo)
  // sharing the valid tap ranges kh x kw.
  template <int PP, class Act>
  static void pixels(const float* x, const float* w, const float* b, float* y, const int (&xo)[PP],
                     const int (&yo)[PP], TapRange kh, TapRange kw, Act f) {
    for (int g = 0; g < GROUPS; ++g) {
      const float* wg = w + g * (G::KH * G::KW * CG * LDW);
      for (int j = 0; j < JLAST; j += NB) block<NB, PP, 0>(x + g * CG, wg, b, y, xo, yo, kh, kw, g, j, f);
      block<LASTN, PP, TAIL>(x + g * CG, wg, b, y, xo, yo, kh, kw, g, JLAST, f);
    }
  }

  template <int N, int PP, int T, class Act>
  static void block(const float* x, const float* wg, const float* b, float* y, const int (&xo)[PP],
                    const int (&yo)[PP], TapRange kh, TapRange kw, int g, int j, Act f) {
    int yt[PP];
KC2CPP_UNROLL(8)
    for (int p = 0; p < PP; ++p) yt[p] = yo[p] + g * FG + j * kLanes;
    ConvSum<N, PP, Fused, SINGLE> s(y, yt, j == JLAST ? FG % kLanes : 0);
    const float* wj = wg + j * kLanes;
    for (int i = kh.lo; i < kh.hi; ++i) {
      int xt[PP];
      if constexpr (GROUPS == 1 && G::DW == 1) {
        if (kw.full(G::KW)) {  // the row's taps (kw, c) are contiguous in x and w: one run of KW*C
KC2CPP_UNROLL(8)
          for (int p = 0; p < PP; ++p) xt[p] = xo[p] + i * G::DH * G::W * G::C;
          s.template terms<LDW, G::KW * CG>(x, xt, wj + i * G::KW * CG * LDW, i * G::KW * CG);
          continue;
        }
      }
      for (int k = kw.lo; k < kw.hi; ++k) {
        const int off = (i * G::DH * G::W + k * G::DW) * G::C;
KC2CPP_UNROLL(8)
        for (int p = 0; p < PP; ++p) xt[p] = xo[p] + off;
        s.template terms<LDW, CG>(x, xt, wj + (i * G::KW + k) * CG * LDW, (i * G::KW + k) * CG);
      }
    }
    s.total();
    conv_store<N, PP, T, HasBias>(s.acc, HasBias ? b + g * LDW + j * kLanes : nullptr, y, yt, f);
  }

  template <class Act>
  static void run(const float* x, const float* w, const float* b, float* y, Act f) {
    int xo[P], yo[P], n = 0;  // pending pixels with the full kw range and the kh range `pend`
    TapRange pend{0, 0};
    const auto flush = [&] {
      for (int q = 0; q < n; ++q) pixels<1>(x, w, b, y, {xo[q]}, {yo[q]}, pend, {0, G::KW}, f);
      n = 0;
    };
    for (int oh = 0; oh < G::OH; ++oh) {
      const TapRange kh = tap_range(oh, G::SH, G::PT, G::DH, G::KH, G::H);
      if (n > 0 && (kh.lo != pend.lo || kh.hi != pend.hi)) flush();
      pend = kh;
      for (int ow = 0; ow < G::OW; ++ow) {
        const TapRange kw = tap_range(ow, G::SW, G::PL, G::DW, G::KW, G::W);
        const int xoff = ((oh * G::SH - G::PT) * G::W + (ow * G::SW - G::PL)) * G::C;
        const int yoff = (oh * G::OW + ow) * G::OC;
        if (!kw.full(G::KW)) {
          flush();
          pixels<1>(x, w, b, y, {xoff}, {yoff}, kh, kw, f);
          continue;
        }
        xo[n] = xoff, yo[n] = yoff;
        if (++n == P) {
          pixels<P>(x, w, b, y, xo, yo, kh, kw, f);
          n = 0;
        }
      }
    }
    flush();
  }
};

template <class G, int GROUPS, bool HasBias, bool Fused, class Act>
inline void conv2d(const float* x, const float* w, const float* b, float* y, Act f) {
  Conv<G, GROUPS, HasBias, Fused>::run(x, w, b, y, f);
}

// Conv1DTranspose/Conv2DTranspose as a gather (ir::ConvTransposeAttrs): output (oh, ow) sums the
// taps whose (o + P - k*D) is a multiple of S with quotient in [0, N). w: [KH][KW][C][LDW].
template <class G, bool HasBias, bool Fused>
struct ConvTranspose {
  static constexpr int LDW = row_floats(G::OC);
  static constexpr int NV = (G::OC + kLanes - 1) / kLanes;
  static constexpr int NB = NV < kMaxAcc ? NV : kMaxAcc, REM = NV % NB;
  static constexpr bool SINGLE = G::KH * G::KW * G::C <= kConvBlock;  // one block of the blocked sum

  // Valid taps of output o along one axis, in ascending k, with their input index.
  static int taps(int o, int S, int P, int D, int K, int N, int* k_out, int* i_out) {
    int n = 0;
    for (int k = 0; k < K; ++k) {
      const int t = o + P - k * D;
      if (t < 0 || t % S != 0 || t / S >= N) continue;
      k_out[n] = k, i_out[n] = t / S, ++n;
    }
    return n;
  }

  template <int N, class Act>
  static void block(const float* x, const float* w, const float* b, float* y, int nh, const int* kh, const int* ih,
                    int nw, const int* kw, const int* iw, int j, Act f) {
    const int yo[1] = {j * kLanes};
    ConvSum<N, 1, Fused, SINGLE> s(y, yo, j + N == NV ? G::OC % kLanes : 0);
    for (int a = 0; a < nh; ++a)
      for (int c = 0; c < nw; ++c) {
        const int xo[1] = {(ih[a] * G::W + iw[c]) * G::C};
        const int r = (kh[a] * G::KW + kw[c]) * G::C;
        s.template terms<LDW, G::C>(x, xo, w + r * LDW + j * kLanes, r);
      }
    s.total();
    conv_store<N, 1, 0, HasBias>(s.acc, HasBias ? b + j * kLanes : nullptr, y, yo, f);
  }

  template <class Act>
  static void run(const float* x, const float* w, const float* b, float* y, Act f) {
    int kh[G::KH], ih[G::KH], kw[G::KW], iw[G::KW];
    for (int oh = 0; oh < G::OH; ++oh) {
      const int nh = taps(oh, G::SH, G::PT, G::DH, G::KH, G::H, kh, ih);
      for (int ow = 0; ow < G::OW; ++ow) {
        const int nw = taps(ow, G::SW, G::PL, G::DW, G::KW, G::W, kw, iw);
        float* yp = y + (oh * G::OW + ow) * G::OC;  // raster order: a whole tail vector spills forward only
        int j = 0;
        for (; j + NB <= NV; j += NB) block<NB>(x, w, b, yp, nh, kh, ih, nw, kw, iw, j, f);
        if constexpr (REM > 0) block<REM>(x, w, b, yp, nh, kh, ih, nw, kw, iw, j, f);
      }
    }
  }
};

template <class G, bool HasBias, bool Fused, class Act>
inline void conv2d_transpose(const float* x, const float* w, const float* b, float* y, Act f) {
  ConvTranspose<G, HasBias, Fused>::run(x, w, b, y, f);
}

// Loads lanes [c, c + kLanes) of a channel row of C floats; the row's last partial vector is read
// as its own C % kLanes floats (the others +0). The input may have no slack, and where it has, a
// whole vector would also read the start of the next row, which the producing kernel stored
// separately, just before: the load would wait for both stores to retire instead of being
// forwarded (vload_n).
template <int C>
inline vf load_channels(const float* row, int c) {
  if constexpr (C % kLanes != 0) {
    if (c + kLanes > C) return vload_n(row + c, C - c);
  }
  return vload(row + c);
}

// DepthwiseConv with depth multiplier 1 (ir::DepthwiseConvAttrs): y[., ., c] = act(sum over the
// valid taps (kh, kw) of x[ih, iw, c] * w[kh][kw][c] + b[c]). w: [KH*KW][row_floats(C)].
template <class G, bool HasBias, bool Fused>
struct DepthwiseConv {
  static constexpr int LDW = row_floats(G::C);
  static constexpr int NV = (G::C + kLanes - 1) / kLanes;
  static constexpr int NB = NV < 8 ? NV : 8, REM = NV % NB;
  // Output pixels per register block along a row: each output's sum is one dependent chain of
  // madds, so a pixel alone waits KH*KW madd latencies; PX pixels run PX chains side by side. Only
  // where a pixel's channels are one block (NV <= 8), so that its stores stay in raster order, and
  // only under clang: separable2d (AVX-512, A/B in one binary) clang 1,059 -> 620 ns fused and
  // 1,030 -> 790 unfused, while g++ gained 5% fused and lost 14% unfused (it reuses the
  // overlapping windows' loads through register moves), so g++ keeps one pixel.
  static constexpr int interior() {  // output columns whose window is all inside the row
    int n = 0;
    for (int ow = 0; ow < G::OW; ++ow) n += tap_range(ow, G::SW, G::PL, G::DW, G::KW, G::W).full(G::KW) ? 1 : 0;
    return n;
  }
#if defined(__clang__)
  static constexpr int PX0 = NV > 8 ? 1 : (kMaxAcc / NV < 8 ? (kMaxAcc / NV > 0 ? kMaxAcc / NV : 1) : 8);
#else
  static constexpr int PX0 = 1;
#endif
  static constexpr int PX = PX0 < interior() ? PX0 : (interior() > 0 ? interior() : 1);

  // Channels [c0, c0 + N*kLanes) of the P output pixels (oh, ow), ..., (oh, ow + P - 1), which
  // share the tap ranges kh and kw.
  template <int N, int P, class Act>
  static void block(const float* x, const float* w, const float* b, float* yp, int oh, int ow, TapRange kh,
                    TapRange kw, int c0, Act f) {
    vf acc[P][N];
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
      for (int v = 0; v < N; ++v) acc[p][v] = vzero();
    for (int i = kh.lo; i < kh.hi; ++i)
      for (int k = kw.lo; k < kw.hi; ++k) {
        const float* xr = x + ((oh * G::SH - G::PT + i * G::DH) * G::W + (ow * G::SW - G::PL + k * G::DW)) * G::C;
        const float* wr = w + (i * G::KW + k) * LDW + c0;
KC2CPP_UNROLL(8)
        for (int v = 0; v < N; ++v) {
          const vf wv = vload(wr + v * kLanes);
KC2CPP_UNROLL(8)
          for (int p = 0; p < P; ++p)
            acc[p][v] = madd<Fused>(load_channels<G::C>(xr + p * G::SW * G::C, c0 + v * kLanes), wv, acc[p][v]);
        }
      }
KC2CPP_UNROLL(8)
    for (int p = 0; p < P; ++p)
KC2CPP_UNROLL(8)
      for (int v = 0; v < N; ++v) {
        vf t = acc[p][v];
        if constexpr (HasBias) t = add(t, vload(b + c0 + v * kLanes));
        vstore(yp + p * G::C + c0 + v * kLanes, f(t));
      }
  }

  template <class Act>
  static void run(const float* x, const float* w, const float* b, float* y, Act f) {
    for (int oh = 0; oh < G::OH; ++oh) {
      const TapRange kh = tap_range(oh, G::SH, G::PT, G::DH, G::KH, G::H);
      for (int ow = 0; ow < G::OW;) {
        const TapRange kw = tap_range(ow, G::SW, G::PL, G::DW, G::KW, G::W);
        float* yp = y + (oh * G::OW + ow) * G::C;  // raster order: whole vectors spill forward only
        if constexpr (PX > 1) {
          // PX pixels whose windows are all inside the row (the full ranges are contiguous)
          if (kw.full(G::KW) && ow + PX <= G::OW && tap_range(ow + PX - 1, G::SW, G::PL, G::DW, G::KW, G::W).full(G::KW)) {
            block<NV, PX>(x, w, b, yp, oh, ow, kh, kw, 0, f);
            ow += PX;
            continue;
          }
        }
        int c0 = 0;
        for (; c0 + NB * kLanes <= NV * kLanes; c0 += NB * kLanes) block<NB, 1>(x, w, b, yp, oh, ow, kh, kw, c0, f);
        if constexpr (REM > 0) block<REM, 1>(x, w, b, yp, oh, ow, kh, kw, c0, f);
        ++ow;
      }
    }
  }
};

template <class G, bool HasBias, bool Fused, class Act>
inline void depthwise_conv2d(const float* x, const float* w, const float* b, float* y, Act f) {
  DepthwiseConv<G, HasBias, Fused>::run(x, w, b, y, f);
}

// y[r][c*T + m] = x[r][c] for m < T (ir::RepeatChannelsAttrs), r < rows.
// Conv3D's depth taps as channels (ir::DepthTapsAttrs): y[od][p][kd*C + c] = x[id][p][c], +0 where
// id = od*sd - pad + kd*dd is outside [0, d).
inline void depth_taps(const float* x, float* y, int d, int od, int plane, int channels, int kd, int sd, int dd,
                       int pad) {
  for (int o = 0; o < od; ++o)
    for (int k = 0; k < kd; ++k) {
      const int id = o * sd - pad + k * dd;
      for (int p = 0; p < plane; ++p) {
        float* yp = y + ((o * plane + p) * kd + k) * channels;
        if (id < 0 || id >= d) {
          for (int c = 0; c < channels; ++c) yp[c] = 0.0f;
        } else {
          copy(x + (id * plane + p) * channels, yp, channels);
        }
      }
    }
}

inline void repeat_channels(const float* x, float* y, int rows, int channels, int times) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < channels; ++c)
      for (int m = 0; m < times; ++m) y[(r * channels + c) * times + m] = x[r * channels + c];
}

// Max with NaN propagation (ir::PoolAttrs): x replaces m if x > m or x is NaN; a NaN m stays.
template <class V>
inline V pool_max(V m, V x) {
  return select(mor(gt(x, m), mnot(eq(x, x))), x, m);
}

// Max/AveragePooling (ir::PoolAttrs): per channel over the valid taps in (kh, kw) order, starting
// from the first valid tap; average = sum / (number of valid taps).
// Channels [c0, c0 + N*kLanes) of output pixel (oh, ow): taps outer, the N vectors inner (clang
// kept the vector loop rolled around the taps' loops: pool_wide_channels 203 -> 138 ns on AVX2).
template <class G, bool IsMax, int N>
KC2CPP_ALWAYS_INLINE inline void pool2d_block(const float* x, float* yp, int oh, int ow, TapRange kh, TapRange kw,
                                              vf count, int c0) {
  vf s[N];
KC2CPP_UNROLL(8)
  for (int v = 0; v < N; ++v) s[v] = vzero();  // the result if no tap is valid (no Keras padding makes one)
  bool first = true;
  for (int i = kh.lo; i < kh.hi; ++i)
    for (int k = kw.lo; k < kw.hi; ++k) {
      const float* xr = x + ((oh * G::SH - G::PT + i) * G::W + (ow * G::SW - G::PL + k)) * G::C;
      if (first) {
KC2CPP_UNROLL(8)
        for (int v = 0; v < N; ++v) s[v] = load_channels<G::C>(xr, c0 + v * kLanes);
      } else {
KC2CPP_UNROLL(8)
        for (int v = 0; v < N; ++v) {
          const vf t = load_channels<G::C>(xr, c0 + v * kLanes);
          s[v] = IsMax ? pool_max(s[v], t) : add(s[v], t);
        }
      }
      first = false;
    }
KC2CPP_UNROLL(8)
  for (int v = 0; v < N; ++v) vstore(yp + c0 + v * kLanes, IsMax ? s[v] : div(s[v], count));
}

template <class G, bool IsMax>
inline void pool2d(const float* x, float* y) {
  KC2CPP_HIDE_POINTER(x);
  constexpr int NV = (G::C + kLanes - 1) / kLanes;
  constexpr int NB = NV < 8 ? NV : 8, REM = NV % NB;
  for (int oh = 0; oh < G::OH; ++oh) {
    const TapRange kh = tap_range(oh, G::SH, G::PT, 1, G::KH, G::H);
    for (int ow = 0; ow < G::OW; ++ow) {
      const TapRange kw = tap_range(ow, G::SW, G::PL, 1, G::KW, G::W);
      const vf count = vsplat(static_cast<float>(kh.count() * kw.count()));
      float* yp = y + (oh * G::OW + ow) * G::C;  // raster order: whole vectors spill forward only
      int c0 = 0;
      for (; c0 + NB * kLanes <= NV * kLanes; c0 += NB * kLanes) pool2d_block<G, IsMax, NB>(x, yp, oh, ow, kh, kw, count, c0);
      if constexpr (REM > 0) pool2d_block<G, IsMax, REM>(x, yp, oh, ow, kh, kw, count, c0);
    }
  }
}

// Global{Max,Average}Pooling (ir::GlobalPoolAttrs): over `ROWS` positions of C channels, in order.
template <int ROWS, int C, bool IsMax, int N>
inline void global_pool_block(const float* x, float* y, int c0) {
  vf s[N];
KC2CPP_UNROLL(8)
  for (int v = 0; v < N; ++v) s[v] = load_channels<C>(x, c0 + v * kLanes);
  for (int r = 1; r < ROWS; ++r)
KC2CPP_UNROLL(8)
    for (int v = 0; v < N; ++v) {
      const vf t = load_channels<C>(x + r * C, c0 + v * kLanes);
      s[v] = IsMax ? pool_max(s[v], t) : add(s[v], t);
    }
KC2CPP_UNROLL(8)
  for (int v = 0; v < N; ++v) vstore(y + c0 + v * kLanes, IsMax ? s[v] : div(s[v], vsplat(static_cast<float>(ROWS))));
}

template <int ROWS, int C, bool IsMax>
inline void global_pool(const float* x, float* y) {
  KC2CPP_HIDE_POINTER(x);
  constexpr int NV = (C + kLanes - 1) / kLanes;
  constexpr int NB = NV < 8 ? NV : 8, REM = NV % NB;
  int c0 = 0;
  for (; c0 + NB * kLanes <= NV * kLanes; c0 += NB * kLanes) global_pool_block<ROWS, C, IsMax, NB>(x, y, c0);
  if constexpr (REM > 0) global_pool_block<ROWS, C, IsMax, REM>(x, y, c0);
}
