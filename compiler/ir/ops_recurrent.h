// Recurrent family: SimpleRNN / LSTM / GRU (one op kind, RnnAttrs), ConvLSTM1D/2D/3D (ConvLstmAttrs)
// and Bidirectional's merge.
// A fragment of ir/ir.h: included there INSIDE namespace kc2cpp::ir, after Activation, so it has
// no includes and no namespace of its own; do not include it directly.
// TimeDistributed is not an op kind: it is Op::slices (ir/ir.h).
//
// THE DETERMINISM CONTRACT of the recurrent ops: the reference evaluator (eval/ops_recurrent.cpp)
// and the runtime kernels (runtime_min/kc2cpp_kernels_recurrent.h) both follow exactly this.
//
// Notation: G gates (SimpleRNN 1; LSTM 4 in Keras order i, f, c, o; GRU 3 in order z, r, h),
// u units, `in` input features. Per timestep, with h = h_{t-1} (and c = c_{t-1}), zero at the
// start of every sequence (predict) or after reset(State&) (step):
//   xw = x_t · W   a Dense-like reduction of length `in` for each of the G*u columns, in the
//                  order of DenseAttrs (x_splits virtual accumulators s_{i mod S}, combined
//                  by DenseAttrs's tree; fused or not per FpMode), no bias;
//   hu = h · U     the same with length u and h_splits (GRU reset_after=False: only the z and r
//                  columns here; the h columns are (r ⊙ h) · U_h, below);
// then, elementwise per unit j (all additions left to right as written, each rounded):
//   SimpleRNN  h' = act((xw + b) + hu)                                     (Keras: h + b, then + hU)
//   LSTM       zg = (xw_g + hu_g) + b_g for g in i, f, c, o                (Keras implementation 2)
//              i = ract(z_i); f = ract(z_f); o = ract(z_o)
//              c' = (f * c) + (i * act(z_c));  h' = o * act(c')
//   GRU, reset_after=True (bias rows b_in, b_rec):
//              mx_g = xw_g + b_in_g;  mh_g = hu_g + b_rec_g
//              z = ract(mx_z + mh_z); r = ract(mx_r + mh_r); hh = act(mx_h + (r * mh_h))
//              h' = (z * h) + ((1 - z) * hh)
//   GRU, reset_after=False (one bias b):
//              mx_g = xw_g + b_g; z = ract(mx_z + hu_z); r = ract(mx_r + hu_r)
//              hh = act(mx_h + ((r ⊙ h) · U_h))    ((r ⊙ h) · U_h: the reduction above, length u, h_splits)
//              h' = (z * h) + ((1 - z) * hh)
// Without a bias the "+ b" steps are skipped (not added as zero: -0 stays -0).
// Products are mul() (never contracted); 1 - z is sub(1, z).
//
// Processing order: step s = 0..T-1 reads x_t with t = s, or t = T-1-s when go_backwards.
// Output: return_sequences -> row s of y holds h after step s (row T-1-s if reverse_output);
// otherwise y = h after the last step.
// Keras masks (masked: a MaskAttrs mask m [T, 1] as the second input): step s is skipped when
// m[t] == 0 (h and c stay as they are; Keras keeps the previous state there), so its row holds
// the previous output (zeros before the first kept step); with zero_masked_output (Bidirectional,
// whose halves Keras builds with zero_output_for_mask) the row of a skipped step is zeros instead.
#pragma once

enum class RnnCell { Simple, Lstm, Gru };
int rnn_gates(RnnCell c);          // 1, 4, 3
const char* to_string(RnnCell c);  // "SimpleRNN", "LSTM", "GRU"

// Packed weights and kernel scratch pad each gate's block of u units to a multiple of
// kGateAlign floats (the runtime's kPad, a multiple of every ISA's vector width):
// gate g, unit j lives in column g * gate_stride(u) + j.
constexpr int64_t kGateAlign = 16;
inline int64_t gate_stride(int64_t units) { return (units + kGateAlign - 1) / kGateAlign * kGateAlign; }

// One recurrent layer (SimpleRNN, LSTM, GRU; also RNN(cell) and each half of Bidirectional).
// Two forms:
//  - sequence (step = false): inputs {x [T, in]}; outputs {y, (h [u] (, c [u] for LSTM) when
//    return_state), scratch}: y is [T, u] with return_sequences, else [u]; return_state's h and c
//    are the state after the last step (with a mask: after the last kept step), Keras's
//    [output, h(, c)]. State starts at zero; the kernel keeps h (and c) in scratch.
//  - step (step = true; only in the streaming graph built by plan/step.h): one timestep.
//    inputs {x_t [in], h [u] (, c [u] for LSTM)}; outputs {h' [u] (, c' [u]), scratch}; h' is
//    also the layer's output. The generated code keeps h/h' (c/c') in the same State slot:
//    the kernel reads all of h before it writes any of h' (and c per unit before c').
//    masked: the last input is the timestep's mask [1]; 0 leaves h' = h and c' = c (step() with a
//    masked input changes nothing and gives the previous output, as predict() does for that row).
// scratch: [rnn_scratch_floats] floats of workspace, carved up by the runtime kernel.
struct RnnAttrs {
  RnnCell cell = RnnCell::Simple;
  int64_t units = 0;
  int kernel = -1;     // weight [in, G*u]
  int recurrent = -1;  // weight [u, G*u]
  int bias = -1;       // weight [G*u]; GRU reset_after: [2, 3u] (b_in, b_rec); -1: use_bias=False
  Activation act;      // `activation`: SimpleRNN output, LSTM candidate and cell output, GRU candidate
  Activation rec_act;  // `recurrent_activation`: LSTM i, f, o and GRU z, r (unused by SimpleRNN)
  bool reset_after = true;  // GRU only
  bool return_sequences = false;
  bool go_backwards = false;
  bool reverse_output = false;  // Bidirectional's backward half with return_sequences: flipped back
  bool masked = false;              // reads a Keras mask (sequence: inputs[1]; step: the last input)
  bool zero_masked_output = false;  // masked return_sequences: a skipped step's row is zeros, not h
  bool return_state = false;  // sequence form: outputs 1 (and 2, LSTM) are the last h (and c)
  bool step = false;
  int x_splits = 1, h_splits = 1;  // chosen by passes::choose_splits from `in` and u only
};
// Floats of the scratch output: (2 G + 4) * gate_stride(u) (xw, hu, two aux rows, h, c).
int64_t rnn_scratch_floats(const RnnAttrs& a);

// ConvLSTM1D / ConvLSTM2D / ConvLSTM3D (one op kind, like RnnAttrs): the LSTM cell above with
// convolutions for the products, as Keras's ConvLSTMCell writes it. F filters. A frame (the input
// at one timestep) is [D][H][W][C] (2-D: D = 1; 1-D: D = H = 1), the state h, c [OD][OH][OW][F]
// (P = OD * OH * OW pixels). Per timestep, with h = h_{t-1} and c = c_{t-1}, both +0 at the start
// of every sequence (predict) or after reset(State&) (step):
//   zx = conv(x_t, kernel) + b   `input`: 4F output channels in gate order i, f, c, o (channel
//                                g * F + j), linear; ir/ops_conv.h's blocked order, bias in its epilogue
//   zh = conv(h, recurrent)      `recurrent`: no bias; padding same, strides 1, dilation 1 (Keras's
//                                recurrent_conv), the same order
//   (ConvLSTM3D: each convolution is Conv3D's lowering: `input_taps` / `recurrent_taps` gather the
//   depth taps as channels, then the 2-D convolution runs on each of the OD depth slices);
// then per pixel p and filter j, with z_g = zx[p][g*F + j] + zh[p][g*F + j] (one rounded add):
//   i = ract(z_i); f = ract(z_f); o = ract(z_o); c' = (f * c) + (i * act(z_c)); h' = o * act(c')
// Products are mul() (never contracted). The first step is computed in full like every other (as
// Keras does: zh = conv(0) = +0, f * (+0) added), so step() from a reset State equals predict().
// Two forms, as RnnAttrs:
//  - sequence (step = false): inputs {x [T][frame]}; outputs {y, (h, c when return_state), scratch}:
//    step s reads frame t = s (go_backwards: T-1-s); y is [T][state] with return_sequences (row s =
//    h after step s, so go_backwards leaves it reversed, as Keras does), else [state] = the last h;
//    return_state adds the last h and c (Keras's [output, h, c]). The loop over T runs inside one
//    kernel: code size does not grow with T.
//  - step (step = true; only in plan/step.h's streaming graph): inputs {x_t, h, c}; outputs
//    {h', c', scratch}; h'/h and c'/c share a State slot (the kernel reads all of h, and c per
//    element, before writing).
// scratch: [conv_lstm_scratch_floats] floats (runtime_min/kc2cpp_kernels_recurrent.h carves them).
struct ConvLstmAttrs {
  int64_t filters = 0;
  ConvAttrs input, recurrent;   // one frame's (one depth slice's) 2-D convolutions; act linear
  bool volume = false;          // ConvLSTM3D: the depth taps below come first
  DepthTapsAttrs input_taps, recurrent_taps;
  Activation act, rec_act;
  bool return_sequences = false, go_backwards = false, return_state = false;
  bool step = false;
};
int64_t conv_lstm_pixels(const ConvLstmAttrs& a);  // P
// 2 zones of P * 4F (zx, zh), the depth-tap buffers (3-D), 2 zones of P * F (a sequence's h, c);
// a zone of n floats is round_up(n, kGateAlign) + kGateAlign (room for whole-vector stores).
int64_t conv_lstm_scratch_floats(const ConvLstmAttrs& a);

// Keras masks (Embedding(mask_zero=True), Masking): which timesteps of a sequence count. x is viewed
// as [steps][features] (features fixed by the lowering, steps = x's size / features) and
// keep_t = any over f of x[t][f] != value (IEEE comparison: NaN is != every value, -0 == 0).
//   Compute: y [steps, 1] = keep_t ? 1.0f : 0.0f  (Embedding: the ids with features 1, value 0, as
//            stored, before the lookup clamps them; Keras: not_equal(inputs, 0));
//   Apply:   y [steps][features] = x[t][f] * (keep_t ? 1.0f : 0.0f), a rounded product (Masking's
//            output, Keras's inputs * cast(any(not_equal(inputs, value)))): a masked -2 gives -0.
enum class MaskForm { Compute, Apply };
struct MaskAttrs {
  MaskForm form = MaskForm::Compute;
  float value = 0.0f;
  int64_t features = 1;
};

// Bidirectional's merge of the forward output a and the (flipped back) backward output b, two
// tensors of equal shape [T, u] or [u]. Concat: y[r] = a[r] ++ b[r] on the last axis (u + u);
// Sum: a + b; Ave: (a + b) * 0.5 (the same bits as Keras's (a + b) / 2); Mul: a * b.
// (merge_mode=None is no op: the model's two outputs are a and b.)
enum class MergeMode { Concat, Sum, Ave, Mul };
struct BidirMergeAttrs {
  MergeMode mode = MergeMode::Concat;
};
const char* to_string(MergeMode m);  // "concat", "sum", "ave", "mul"
