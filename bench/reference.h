// kc2cpp benchmark: hand-written reference implementations of the same models
// (a plain scalar loop and two Eigen matrix-vector versions). They are speed references,
// not bit references: they use std::exp / Eigen's exp and whatever contraction the compiler picks.
// Compiled in their own TU (reference.cpp) with -O3 -march=native.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace bench {

enum class ActKind { Linear, Relu, Sigmoid, Elu, Leaky };

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

class Impl {
 public:
  virtual ~Impl() = default;
  virtual void predict(const float* x, float* y) = 0;
};

// Plain loops: y = b; for i: y += x[i] * W[i][:]; then activations with std::exp/std::expm1.
std::unique_ptr<Impl> make_scalar(const ModelSpec& m);
// Eigen with dynamic sizes (MatrixXf/VectorXf): h = b; h.noalias() += W^T x; activations as array ops.
std::unique_ptr<Impl> make_eigen_dynamic(const ModelSpec& m);
// Eigen with compile-time sizes (Matrix<float, Out, In>); only for the benchmark's own models,
// nullptr when no instantiation matches the layer sizes.
std::unique_ptr<Impl> make_eigen_fixed(const ModelSpec& m);

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
