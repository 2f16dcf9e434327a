// Semantics-preserving rewrites, each Graph -> Graph (in place), each tested alone.
#pragma once

#include "ir/ir.h"

namespace kc2cpp::passes {

// Identity ops (Dropout & co at inference) disappear; their consumers read the input.
void remove_identity(ir::Graph& g);
// Dense (linear) -> elementwise Activation, with no other consumer: the activation moves
// into the Dense epilogue. The result is bit-identical (same operations in the same order).
void fuse_activation(ir::Graph& g);
// Picks DenseAttrs::splits from the reduction length only (never from an ISA), so that
// every path follows the same order: n < 16 -> 1, n < 64 -> 2, else 4.
void choose_splits(ir::Graph& g);

// All of the above, in order.
void optimize(ir::Graph& g);

}  // namespace kc2cpp::passes
