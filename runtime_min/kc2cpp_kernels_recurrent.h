// kc2cpp runtime: recurrent kernels (SimpleRNN, LSTM, GRU cells; ConvLSTM; whole sequences;
// Bidirectional merge). Pasted inside `namespace <model> { namespace kc {` after kc2cpp_kernels.h,
// whose dense_block, madd, kMaxAcc, round_up and copy it uses, and kc2cpp_kernels_conv.h (conv2d,
// depth_taps, store_first for ConvLSTM). Includes nothing.
//
// The arithmetic is the contract written in compiler/ir/ops_recurrent.h (the reference evaluator,
// compiler/eval/ops_recurrent.cpp, follows the same one):
// - x·W and h·U are dense_block reductions (split S chosen by the compiler from the model only,
//   combined by the fixed tree), vectorised across the independent gate columns;
// - the gate math is elementwise per unit, one vector of units at a time, the same IEEE
//   operations in the same order on every path.
//
// Layouts (compiler/plan/pack_recurrent.h): UW = row_floats(U) (kc2cpp_kernels.h: weight rows);
// gate g's unit j is column g*UW + j of the packed kernel [In][G*UW], recurrent kernel [U][G*UW]
// and bias [G*UW] (GRU reset_after: [2][3*UW], input row then recurrent row).
// Scratch and state: UG = round_up(U, kPad) floats per gate.
// Scratch of a cell: xw [G*UG], hu [G*UG], aux [2*UG]; a whole sequence adds h [UG], c [UG]
// after them: (2G + 4) * UG floats (ir::rnn_scratch_floats).
// State vectors h and c hold UG floats; the kernels compute and write units [0, UV), UV =
// round_up(U, kLanes) <= UG (lanes U..UV-1 hold deterministic junk nobody reads; UV..UG-1 are
// left as they are).
// A cell may be called with h_out == h and c_out == c: it reads all of h before writing h_out,
// and reads unit j of h and c before writing unit j of h_out and c_out.

// y[n] = sum_i x[i] * w[i*LDW + n] for n < N (a multiple of kLanes), in dense_block's order.
template <int K, int N, int LDW, int S, bool Fused>
inline void rnn_matvec(const float* x, const float* w, float* y) {
  constexpr int NV = N / kLanes;
  constexpr int NB0 = block_vectors(S);
  constexpr int NB = NV < NB0 ? NV : NB0;
  constexpr int REM = NV % NB;
  int j = 0;
  for (; j + NB <= NV; j += NB) {
    vf out[NB];
    dense_block<K, S, NB, Fused>(x, w + j * kLanes, LDW, out);
KC2CPP_UNROLL(24)
    for (int v = 0; v < NB; ++v) vstore(y + (j + v) * kLanes, out[v]);
  }
  if constexpr (REM > 0) {
    vf out[REM];
    dense_block<K, S, REM, Fused>(x, w + j * kLanes, LDW, out);
KC2CPP_UNROLL(24)
    for (int v = 0; v < REM; ++v) vstore(y + (j + v) * kLanes, out[v]);
  }
}

// y[g*UG + n] = sum_i x[i] * w[i*LDW + g*UW + n] for gates g < G, n < UV = round_up(U, kLanes):
// only the vectors holding units, gate by gate where the gates' columns are not UG apart in both
// (the scalar, SSE2 and NEON paths, and AVX2 where UV < UG), else one block of all gates.
template <int K, int G, int U, int LDW, int S, bool Fused>
inline void rnn_gates_matvec(const float* x, const float* w, float* y) {
  constexpr int UG = round_up(U, kPad), UW = row_floats(U), UV = round_up(U, kLanes);
  if constexpr (UV == UG && UW == UG) {
    rnn_matvec<K, G * UG, LDW, S, Fused>(x, w, y);
  } else {
    for (int g = 0; g < G; ++g) rnn_matvec<K, UV, LDW, S, Fused>(x, w + g * UW, y + g * UG);
  }
}

// h' = act((xw + b) + hu)
template <int In, int U, int XS, int HS, bool HasBias, bool Fused, class Act>
struct SimpleRnnCell {
  static constexpr int kIn = In, kUnits = U, kGates = 1, UG = round_up(U, kPad), UW = row_floats(U),
                       UV = round_up(U, kLanes);
  const float *w, *rw, *b;
  Act act;
  void operator()(const float* x, const float* h, const float*, float* h_out, float*, float* scratch) const {
    float* xw = scratch;
    float* hu = scratch + UG;
    rnn_gates_matvec<In, 1, U, UW, XS, Fused>(x, w, xw);
    rnn_gates_matvec<U, 1, U, UW, HS, Fused>(h, rw, hu);
    for (int j = 0; j < UV; j += kLanes) {
      vf a = vload(xw + j);
      if constexpr (HasBias) a = add(a, vload(b + j));
      vstore(h_out + j, act(add(a, vload(hu + j))));
    }
  }
};

// z_g = (xw_g + hu_g) + b_g; i, f, o = ract(z); c' = (f * c) + (i * act(z_c)); h' = o * act(c')
template <int In, int U, int XS, int HS, bool HasBias, bool Fused, class Act, class RAct>
struct LstmCell {
  static constexpr int kIn = In, kUnits = U, kGates = 4, UG = round_up(U, kPad), UW = row_floats(U),
                       UV = round_up(U, kLanes);
  const float *w, *rw, *b;
  Act act;
  RAct ract;
  void operator()(const float* x, const float* h, const float* c, float* h_out, float* c_out, float* scratch) const {
    float* xw = scratch;
    float* hu = scratch + 4 * UG;
    rnn_gates_matvec<In, 4, U, 4 * UW, XS, Fused>(x, w, xw);
    rnn_gates_matvec<U, 4, U, 4 * UW, HS, Fused>(h, rw, hu);
    for (int j = 0; j < UV; j += kLanes) {
      vf z[3];
KC2CPP_UNROLL(3)
      for (int g = 0; g < 3; ++g) {
        z[g] = add(vload(xw + g * UG + j), vload(hu + g * UG + j));
        if constexpr (HasBias) z[g] = add(z[g], vload(b + g * UW + j));
      }
      const vf i = ract(z[0]), f = ract(z[1]);
      vstore(c_out + j, add(mul(f, vload(c + j)), mul(i, act(z[2]))));
    }
    // o and h' in a loop of their own: o is off the critical path (it overlaps act(c') out of
    // order), and each loop keeps only its own activations' constants in registers (lstm32_f1 step:
    // fused 1.07x faster with g++ on AVX2, 1.15x with clang; unfused 1.0-1.04x).
    for (int j = 0; j < UV; j += kLanes) {
      vf zo = add(vload(xw + 3 * UG + j), vload(hu + 3 * UG + j));
      if constexpr (HasBias) zo = add(zo, vload(b + 3 * UW + j));
      vstore(h_out + j, mul(ract(zo), act(vload(c_out + j))));
    }
  }
};

// reset_after: mx = xw + b_in, mh = hu + b_rec; z = ract(mx_z + mh_z); r = ract(mx_r + mh_r);
//              hh = act(mx_h + (r * mh_h))
// else:        mx = xw + b; z = ract(mx_z + hu_z); r = ract(mx_r + hu_r); hh = act(mx_h + (r ⊙ h)·U_h)
// h' = (z * h) + ((1 - z) * hh)
template <int In, int U, int XS, int HS, bool HasBias, bool ResetAfter, bool Fused, class Act, class RAct>
struct GruCell {
  static constexpr int kIn = In, kUnits = U, kGates = 3, UG = round_up(U, kPad), UW = row_floats(U),
                       UV = round_up(U, kLanes);
  const float *w, *rw, *b;
  Act act;
  RAct ract;

  vf mx(const float* xw, int g, int j) const {
    vf t = vload(xw + g * UG + j);
    if constexpr (HasBias) t = add(t, vload(b + g * UW + j));
    return t;
  }
  vf mh(const float* hu, int g, int j) const {
    vf t = vload(hu + g * UG + j);
    if constexpr (HasBias && ResetAfter) t = add(t, vload(b + 3 * UW + g * UW + j));
    return t;
  }
  static vf mix(vf z, vf h, vf hh) { return add(mul(z, h), mul(sub(vsplat(1.0f), z), hh)); }

  void operator()(const float* x, const float* h, const float*, float* h_out, float*, float* scratch) const {
    float* xw = scratch;
    float* hu = scratch + 3 * UG;
    float* zs = scratch + 6 * UG;  // aux: z, then r ⊙ h
    float* rh = zs + UG;
    rnn_gates_matvec<In, 3, U, 3 * UW, XS, Fused>(x, w, xw);
    if constexpr (ResetAfter) {
      rnn_gates_matvec<U, 3, U, 3 * UW, HS, Fused>(h, rw, hu);
      for (int j = 0; j < UV; j += kLanes) {
        // z after h~: r -> h~ is the critical path, z overlaps it (as LstmCell's o)
        const vf r = ract(add(mx(xw, 1, j), mh(hu, 1, j)));
        const vf hh = act(add(mx(xw, 2, j), mul(r, mh(hu, 2, j))));
        const vf z = ract(add(mx(xw, 0, j), mh(hu, 0, j)));
        vstore(h_out + j, mix(z, vload(h + j), hh));
      }
    } else {
      rnn_gates_matvec<U, 2, U, 3 * UW, HS, Fused>(h, rw, hu);
      for (int j = 0; j < UV; j += kLanes) {
        vstore(zs + j, ract(add(mx(xw, 0, j), vload(hu + j))));
        const vf r = ract(add(mx(xw, 1, j), vload(hu + UG + j)));
        vstore(rh + j, mul(r, vload(h + j)));
      }
      rnn_gates_matvec<U, 1, U, 3 * UW, HS, Fused>(rh, rw + 2 * UW, hu + 2 * UG);
      for (int j = 0; j < UV; j += kLanes) {
        const vf hh = act(add(mx(xw, 2, j), vload(hu + 2 * UG + j)));
        vstore(h_out + j, mix(vload(zs + j), vload(h + j), hh));
      }
    }
  }
};

// Factories (deduce the activation functors' types).
template <int In, int U, int XS, int HS, bool HasBias, bool Fused, class Act, class RAct>
inline SimpleRnnCell<In, U, XS, HS, HasBias, Fused, Act> simple_rnn_cell(const float* w, const float* rw,
                                                                         const float* b, Act act, RAct) {
  return {w, rw, b, act};
}
template <int In, int U, int XS, int HS, bool HasBias, bool Fused, class Act, class RAct>
inline LstmCell<In, U, XS, HS, HasBias, Fused, Act, RAct> lstm_cell(const float* w, const float* rw, const float* b,
                                                                    Act act, RAct ract) {
  return {w, rw, b, act, ract};
}
template <int In, int U, int XS, int HS, bool HasBias, bool ResetAfter, bool Fused, class Act, class RAct>
inline GruCell<In, U, XS, HS, HasBias, ResetAfter, Fused, Act, RAct> gru_cell(const float* w, const float* rw,
                                                                              const float* b, Act act, RAct ract) {
  return {w, rw, b, act, ract};
}

// A whole sequence x [T][In] -> y ([T][U] with ReturnSequences, else [U]), state from zero.
// Step s reads row t = s (Backward: T-1-s) and, with ReturnSequences, writes row s (ReverseOutput:
// T-1-s) of y; without, y is h after the last step. With a Keras mask m [T] (else nullptr) step s
// is skipped when m[t] == 0: the state stays, its row is h (ZeroMasked: zeros).
template <int T, bool ReturnSequences, bool Backward, bool ReverseOutput, bool ZeroMasked, class Cell>
inline void rnn_sequence_masked(const Cell& cell, const float* x, const float* m, float* y, float* scratch) {
  constexpr int In = Cell::kIn, U = Cell::kUnits, UG = Cell::UG;
  float* h = scratch + (2 * Cell::kGates + 2) * UG;
  float* c = h + UG;
  for (int j = 0; j < 2 * UG; ++j) h[j] = 0.0f;
  for (int s = 0; s < T; ++s) {
    const int t = Backward ? T - 1 - s : s;
    const bool keep = m == nullptr || m[t] != 0.0f;
    if (keep) cell(x + t * In, h, c, h, c, scratch);
    if constexpr (ReturnSequences) {
      float* row = y + (ReverseOutput ? T - 1 - s : s) * U;
      if (ZeroMasked && !keep) {
        for (int j = 0; j < U; ++j) row[j] = 0.0f;
      } else {
        copy(h, row, U);
      }
    }
  }
  if constexpr (!ReturnSequences) copy(h, y, U);
}
template <int T, bool ReturnSequences, bool Backward, bool ReverseOutput, class Cell>
inline void rnn_sequence(const Cell& cell, const float* x, float* y, float* scratch) {
  rnn_sequence_masked<T, ReturnSequences, Backward, ReverseOutput, false>(cell, x, nullptr, y, scratch);
}

// return_state: the last h (and LSTM c, else c_last is nullptr) of a whole sequence, from the
// scratch where rnn_sequence_masked keeps them.
template <class Cell>
inline void rnn_last_state(const float* scratch, float* h_last, float* c_last) {
  const float* h = scratch + (2 * Cell::kGates + 2) * Cell::UG;
  copy(h, h_last, Cell::kUnits);
  if (c_last != nullptr) copy(h + Cell::UG, c_last, Cell::kUnits);
}

// One timestep under a Keras mask m [1]: m[0] == 0 leaves the state (h_out = h, c_out = c) as it is.
template <class Cell>
inline void rnn_step_masked(const Cell& cell, const float* x, const float* h, const float* c, const float* m,
                            float* h_out, float* c_out, float* scratch) {
  if (m[0] != 0.0f) return cell(x, h, c, h_out, c_out, scratch);
  if (h_out != h) copy(h, h_out, Cell::kUnits);
  if (c_out != c) copy(c, c_out, Cell::kUnits);
}

// ConvLSTM1D/2D/3D (ir::ConvLstmAttrs): the LSTM cell with convolutions for the products. Both
// convolutions are the conv kernels of kc2cpp_kernels_conv.h (conv2d, depth_taps: the order of
// compiler/ir/ops_conv.h), so a ConvLSTM's sums have the bits a Conv layer's would.
// A zone of n floats: n rounded up to kPad, plus kPad floats for whole-vector stores past the end.
constexpr int conv_lstm_zone(int n) { return round_up(n, kPad) + kPad; }

// One frame's convolution with geometry G (2-D; linear). KD > 0 (ConvLSTM3D): Conv3D's depth taps
// of the [D][G::H][G::W][G::C / KD] frame into `taps` first (stride SD, dilation DD, PD padded
// before), then G on each of the OD depth slices. y: [OD][G::OH][G::OW][G::OC].
template <class G, bool HasBias, bool Fused, int KD, int D, int OD, int SD, int DD, int PD>
struct FrameConv {
  static constexpr int kTaps = KD > 0 ? conv_lstm_zone(OD * G::H * G::W * G::C) : 0;  // floats of `taps`
  static void run(const float* x, const float* w, const float* b, float* y, float* taps) {
    if constexpr (KD == 0) {
      conv2d<G, 1, HasBias, Fused>(x, w, b, y, act::Linear{});
    } else {
      depth_taps(x, taps, D, OD, G::H * G::W, G::C / KD, KD, SD, DD, PD);
      for (int s = 0; s < OD; ++s)
        conv2d<G, 1, HasBias, Fused>(taps + s * (G::H * G::W * G::C), w, b, y + s * (G::OH * G::OW * G::OC),
                                     act::Linear{});
    }
  }
};

// The cell on one frame: XConv (x_t -> zx, with bias) and HConv (h -> zh, no bias) give P pixels x 4F
// channels; then per element z_g = zx_g + zh_g, i, f, o = ract(z), c' = (f * c) + (i * act(z_c)),
// h' = o * act(c'). h_out may be h and c_out c (all of h is read by HConv before any h' is written;
// c per element before c'). Loads and stores touch only the lanes of their own filters.
// Scratch: zx, zh (zones of P*4F), XConv's and HConv's depth taps; kScratch floats.
template <class XConv, class HConv, int P, int F, class Act, class RAct>
struct ConvLstmCell {
  static constexpr int kState = P * F, kZ = conv_lstm_zone(4 * P * F);
  static constexpr int kScratch = 2 * kZ + XConv::kTaps + HConv::kTaps;
  const float *w, *b, *rw;
  Act act;
  RAct ract;
  void operator()(const float* x, const float* h, const float* c, float* h_out, float* c_out, float* scratch) const {
    float* zx = scratch;
    float* zh = zx + kZ;
    XConv::run(x, w, b, zx, zh + kZ);
    HConv::run(h, rw, nullptr, zh, zh + kZ + XConv::kTaps);
    for (int p = 0; p < P; ++p) {
      const float* xp = zx + p * 4 * F;
      const float* hp = zh + p * 4 * F;
      for (int j = 0; j < F; j += kLanes) {
        const int n = F - j < kLanes ? F - j : kLanes;
        vf z[4];
KC2CPP_UNROLL(4)
        for (int g = 0; g < 4; ++g) z[g] = add(vload_n(xp + g * F + j, n), vload_n(hp + g * F + j, n));
        const vf i = ract(z[0]), f = ract(z[1]);
        const int at = p * F + j;
        const vf cn = add(mul(f, vload_n(c + at, n)), mul(i, act(z[2])));
        store_first(c_out + at, cn, n);
        const vf o = ract(z[3]);  // after c', as in LstmCell
        store_first(h_out + at, mul(o, act(cn)), n);
      }
    }
  }
};
template <class XConv, class HConv, int P, int F, class Act, class RAct>
inline ConvLstmCell<XConv, HConv, P, F, Act, RAct> conv_lstm_cell(const float* w, const float* b, const float* rw,
                                                                   Act act, RAct ract) {
  return {w, b, rw, act, ract};
}

// A whole sequence x [T][Frame] from a zero state: step s reads frame t = s (Backward: T-1-s);
// y is [T][P*F] (row s: h after step s) with ReturnSequences, else the last h. h_last / c_last
// (return_state; nullptr: not wanted) get the last h and c. h and c live in the scratch after the
// cell's: Cell::kScratch + 2 * conv_lstm_zone(P*F) floats in all, at most ScratchFloats (the
// compiler's ir::conv_lstm_scratch_floats).
template <int T, int Frame, bool ReturnSequences, bool Backward, int ScratchFloats, class Cell>
inline void conv_lstm_sequence(const Cell& cell, const float* x, float* y, float* h_last, float* c_last,
                               float* scratch) {
  constexpr int S = Cell::kState;
  static_assert(Cell::kScratch + 2 * conv_lstm_zone(S) <= ScratchFloats, "ConvLSTM scratch");
  float* h = scratch + Cell::kScratch;
  float* c = h + conv_lstm_zone(S);
  for (int j = 0; j < S; ++j) h[j] = 0.0f, c[j] = 0.0f;
  for (int s = 0; s < T; ++s) {
    cell(x + (Backward ? T - 1 - s : s) * Frame, h, c, h, c, scratch);
    if constexpr (ReturnSequences) copy(h, y + s * S, S);
  }
  if constexpr (!ReturnSequences) copy(h, y, S);
  if (h_last != nullptr) copy(h, h_last, S);
  if (c_last != nullptr) copy(c, c_last, S);
}

// Keras masks over x viewed as [steps][features], keep_t = any_f x[t][f] != value (ir::MaskAttrs);
// X is float, or int32_t for an Embedding's integer ids (compared exactly with value 0).
template <class X>
inline bool mask_keep(const X* row, int features, float value) {
  bool keep = false;
  for (int f = 0; f < features; ++f) keep = keep || row[f] != value;
  return keep;
}
// Compute: m[t] = keep_t ? 1 : 0.
template <class X>
inline void mask_compute(const X* x, float* m, int steps, int features, float value) {
  for (int t = 0; t < steps; ++t) m[t] = mask_keep(x + t * features, features, value) ? 1.0f : 0.0f;
}
// Apply (Masking's output): y[t][f] = x[t][f] * (keep_t ? 1 : 0), a rounded product.
inline void mask_apply(const float* x, float* y, int steps, int features, float value) {
  for (int t = 0; t < steps; ++t) {
    const float k = mask_keep(x + t * features, features, value) ? 1.0f : 0.0f;
    for (int f = 0; f < features; ++f) y[t * features + f] = x[t * features + f] * k;
  }
}

// Bidirectional merge of a and b (n floats each). Concat: rows of u floats, y row r = a row r ++ b row r.
inline void bidir_concat(const float* a, const float* b, float* y, int rows, int u) {
  for (int r = 0; r < rows; ++r) {
    copy(a + r * u, y + 2 * r * u, u);
    copy(b + r * u, y + (2 * r + 1) * u, u);
  }
}
// Mode 0: a + b; 1: (a + b) * 0.5 (= Keras's (a + b) / 2, bit for bit); 2: a * b.
template <int Mode, class V>
inline V bidir_merge_one(V a, V b) {
  if constexpr (Mode == 0) return add(a, b);
  if constexpr (Mode == 1) return mul(add(a, b), splat_v<V>(0.5f));
  if constexpr (Mode == 2) return mul(a, b);
}
template <int Mode>
inline void bidir_merge(const float* a, const float* b, float* y, int n) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, bidir_merge_one<Mode>(vload(a + i), vload(b + i)));
  for (; i < n; ++i) y[i] = bidir_merge_one<Mode>(a[i], b[i]);
}
