// Semantics-preserving rewrites, each Graph -> Graph (in place), each tested alone.
#pragma once

#include "ir/ir.h"

namespace kc2cpp::passes {

// Identity ops (Dropout & co at inference) disappear; their consumers read the input.
void remove_identity(ir::Graph& g);
// Dense (linear) -> elementwise Activation, with no other consumer: the activation moves
// into the Dense epilogue. The result is bit-identical (same operations in the same order).
void fuse_activation(ir::Graph& g);
// The split of a Dense-like reduction of length n (DenseAttrs::splits; the order is written at
// DenseAttrs), from n and the --fp mode only (never from an ISA), so that every path follows the
// same order. Unfused, n <= 32: a pairwise tree of the products (splits = n): the sum's latency is
// log2(n) additions instead of n, at no extra instruction (a product and an add per term either
// way); n > 32: 4 interleaved chains (throughput-bound). Fused: n/2 rounded up, at most 4 (each
// chain at least a product and one fma; every term beyond the 4 chain starts is one fma, where a
// tree costs an fma and an add per pair: 1.06x on the summary walkthrough, 1.08x on a GRU(32)).
int reduction_splits(int64_t n, ir::FpMode fp);
// The split of a Dense layer's sum of length n over `columns` outputs (DenseAttrs::splits):
// reduction_splits, except for long sums (n >= kLongSum) over at most kOnePassFloats columns, which
// get at most kOnePassFloats / round_up(columns, 16) chains: few enough that one register block
// holds every chain of every column on the widest path (AVX-512: 24 accumulators of 16 lanes), so
// the weights, too big for the caches, stream from memory once instead of once per block. The
// columns give all the parallelism such a sum needs (8 vectors at 128 columns). From the model
// only, like reduction_splits. Dense 32768 -> 128 (an MNIST CNN's head), AVX-512: 3 chains, one pass.
constexpr int64_t kLongSum = 1024, kOnePassFloats = 384;
int dense_splits(int64_t n, int64_t columns, ir::FpMode fp);
// The split of a recurrent cell's x·W and h·U (RnnAttrs::x_splits, h_splits): reduction_splits,
// except that unfused it is min(n, 4): a cell's sums run over all G·units gate columns at once,
// so they are throughput-bound like long Dense sums, and 4 interleaved chains keep every column
// vector in a register where the pairwise tree over 32 units did not (GRU(32) step, AVX-512:
// 170 ns against 235). Up to 4 terms both orders are the same tree.
int recurrent_splits(int64_t n, ir::FpMode fp);
// Sets DenseAttrs::splits by dense_splits (MatMulAttrs::splits by reduction_splits), and RnnAttrs::x_splits
// (n = input features) and h_splits (n = units) by recurrent_splits.
void choose_splits(ir::Graph& g);

// TimeDistributed ops that act on the last axis alone (Dense, elementwise Activation) or are
// views (Reshape) run over the whole tensor at once: Op::slices becomes 1. Bit-identical (each
// output element sees the same operations); fewer, longer kernel calls.
void merge_slices(ir::Graph& g);

// BatchNorm (ir::BatchNormAttrs over the last axis) reading the output of a linear Dense, Conv,
// DepthwiseConv or ConvTranspose that nothing else reads: folded into that op's kernel and bias,
// computed in double from Keras's parameters and rounded once: w' = w * s_c, b' = b * s_c + t_c with
// s_c = gamma / sqrt(var + eps), t_c = beta - mean * s_c. Not bit-identical to the standalone op
// (the scaling moves from the sum into each product), within the same bound of Keras (measured in
// the bn_*_fold fixtures); skipped when a folded value would overflow, or a non-zero one round to a
// subnormal or zero: the BatchNorm then stays a standalone op. Runs before fuse_activation.
void fold_batchnorm(ir::Graph& g);

// Weights with the same name, shape and data become one (a layer called several times is lowered
// once per call: one weight array, several ops); weights that share a name but differ (never from
// a well-formed file) get "#2", "#3"... so that every emitted array has its own identifier.
void share_weights(ir::Graph& g);

// All of the above, in order (share_weights first, and again last for folded copies).
void optimize(ir::Graph& g);

}  // namespace kc2cpp::passes
