// kc2cpp benchmark: hand-written reference implementations of the same models
// (a plain scalar loop and two Eigen matrix-vector versions). They are speed references,
// not bit references: they use std::exp / Eigen's exp and whatever contraction the compiler picks.
// Compiled in their own TU (reference.cpp) with -O3 -march=native.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace bench {

enum class ActKind { Linear, Relu, Sigmoid, Elu, Leaky, Tanh, Softmax };  // Softmax: over the last axis

struct ActSpec {
  ActKind kind = ActKind::Linear;
  float alpha = 0.0f;  // Elu alpha, LeakyReLU negative_slope
};

// One Dense layer plus the elementwise activations applied after it (its own activation,
// then any standalone activation layers that follow it, e.g. LeakyReLU). Dropout is dropped.
struct DenseSpec {
  int in = 0, out = 0;
  std::vector<float> kernel;  // [in][out], row-major, as Keras stores it
  std::vector<float> bias;    // [out] (zeros when use_bias=False)
  std::vector<ActSpec> acts;
};

struct ModelSpec {
  std::string id;
  std::vector<DenseSpec> layers;
  int in_size() const { return layers.front().in; }
  int out_size() const { return layers.back().out; }
};

// A model of any family (convolution, pooling, recurrent, normalization, embedding), as a chain
// of layers on channels-last tensors, for the plain scalar-loop reference (make_scalar_net).
// 1-D layers (Conv1D, pooling over time) are the 2-D ones with H = 1.
enum class NetOp { Dense, Conv, Depthwise, Separable, Pool, GlobalPool, Embedding, LayerNorm, BatchNorm, Act,
                   Flatten, GRU, LSTM };
struct NetLayer {
  NetOp op = NetOp::Act;
  std::string name;
  int units = 0;                 // Dense units / Conv filters / RNN units / Embedding output_dim
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;  // window, strides, dilation (conv, pool)
  enum Pad { Valid, Same, Causal } pad = Valid;
  int depth_multiplier = 1;      // Depthwise / Separable
  bool max = true;               // Pool / GlobalPool: max (else average)
  bool return_sequences = false, reset_after = true;  // GRU / LSTM
  float eps = 1e-3f;             // LayerNorm / BatchNorm
  int vocab = 0;                 // Embedding input_dim
  std::vector<float> w;          // kernel ([kh][kw][cin][cout] / [in][out] / Depthwise [kh][kw][c][dm] / embeddings / RNN kernel [F][G*U])
  std::vector<float> w2;         // Separable pointwise [cin*dm][filters] / RNN recurrent kernel [U][G*U]
  std::vector<float> b;          // bias (empty: none); GRU reset_after: [2][3U]
  std::vector<float> gamma, beta, mean, var;  // normalization (empty gamma/beta: scale/center off)
  ActSpec act, rec_act;          // output activation (recurrent: `activation`), recurrent_activation
};
struct NetSpec {
  std::string id;
  std::vector<int> in_shape;     // without the batch axis
  std::vector<NetLayer> layers;
};

class Impl {
 public:
  virtual ~Impl() = default;
  virtual void predict(const float* x, float* y) = 0;
  // Streaming (recurrent models whose layers before the last recurrent one are per-timestep):
  // one timestep per call, state carried between calls, as the generated State/reset/step.
  virtual bool can_step() const { return false; }
  virtual void reset() {}
  virtual void step(const float* /*x_t*/, float* /*y_t*/) {}
  virtual int step_in_size() const { return 0; }
  virtual int step_out_size() const { return 0; }
};

// Plain scalar loops for any NetSpec (one straightforward loop nest per layer, activations with
// std::exp/std::tanh). Sizes are planned at construction; predict/step never allocate.
// Throws std::runtime_error if a layer is outside what it implements. *macs: multiply-adds per
// inference (per step: *step_macs).
std::unique_ptr<Impl> make_scalar_net(const NetSpec& m, int* out_size, long* macs, long* step_macs);

// A transformer encoder classifier (bench/gen_models.py transformer_s32_d64): token ids -> Embedding
// -> blocks of [self-attention (heads x key_dim, Keras's MultiHeadAttention), Add, LayerNormalization,
// Dense(ff, relu), Dense(d), Add, LayerNormalization] -> GlobalAveragePooling1D -> Dense(classes,
// softmax). Arrays in Keras's layouts: query/key/value kernels [d][heads][key_dim], biases
// [heads][key_dim], output kernel [heads][key_dim][d].
struct TransformerSpec {
  int seq = 0, vocab = 0, d = 0, heads = 0, key_dim = 0, ff = 0, classes = 0;
  float eps = 1e-5f;
  std::vector<float> embed;  // [vocab][d]
  struct Block {
    std::vector<float> wq, bq, wk, bk, wv, bv, wo, bo, gamma1, beta1, w1, b1, w2, b2, gamma2, beta2;
  };
  std::vector<Block> blocks;
  std::vector<float> head_w, head_b;  // [d][classes], [classes]
};
// Plain loops for a TransformerSpec (std::exp, std::sqrt); input: token ids as floats. *macs:
// multiply-adds per inference.
std::unique_ptr<Impl> make_scalar_transformer(const TransformerSpec& s, long* macs);

// Plain loops: y = b; for i: y += x[i] * W[i][:]; then activations with std::exp/std::expm1.
std::unique_ptr<Impl> make_scalar(const ModelSpec& m);
// Eigen with dynamic sizes (MatrixXf/VectorXf): h = b; h.noalias() += W^T x; activations as array ops.
std::unique_ptr<Impl> make_eigen_dynamic(const ModelSpec& m);
// Eigen with compile-time sizes (Matrix<float, Out, In>); only for the benchmark's own models,
// nullptr when no instantiation matches the layer sizes.
std::unique_ptr<Impl> make_eigen_fixed(const ModelSpec& m);

// A recurrent layer stepped the way RTNeural's Eigen backend does it (GRULayerT / LSTMLayerT:
// fixed-size Eigen matrices per gate for the kernel and the recurrent kernel, sigmoid as
// 1 / (1 + exp(-x)) and tanh as Eigen's vectorised array functions), then a Dense head: for NetSpecs
// [GRU(U, reset_after, return_sequences) or LSTM(U, return_sequences)] -> Dense(1) with tanh /
// sigmoid activations on F features, (F, U) in {(1, 32), (3, 32)}; nullptr otherwise. step() is
// one timestep; predict() runs the whole sequence from a zero state.
std::unique_ptr<Impl> make_eigen_rnn(const NetSpec& m);

// Machine facts measured with inline asm (x86-64 only; 0 elsewhere).
// Effective core clock in GHz, from the thread CPU time of a chain of dependent 64-bit imul
// (3 cycles each): best of `reps` runs of `iters` x 100 imul.
double measure_core_ghz(int reps = 5, long iters = 1'000'000);
// "3.4.0"
std::string eigen_version();
// Peak fp32 FMA lanes per cycle for 512-bit (avx512=true) or 256-bit vectors, measured with
// 12 independent vfmadd231ps chains, given the core clock. 0 if the CPU lacks the ISA.
double measure_fma_lanes_per_cycle(bool avx512, double core_ghz, int reps = 5, long iters = 4'000'000);

}  // namespace bench
