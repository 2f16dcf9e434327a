// The reference evaluator: runs the (optimised) IR on the host, following the operation order
// documented in compiler/ir/ir.h and runtime_min/kc2cpp_kernels.h. Its outputs define the
// bits the generated code must reproduce on every ISA path.
#pragma once

#include <vector>

#include "ir/ir.h"

namespace kc2cpp::eval {

// inputs[k]: `batch` samples of graph input k, contiguous. Returns one array per graph output.
std::vector<std::vector<float>> evaluate(const ir::Graph& g, const std::vector<std::vector<float>>& inputs,
                                         int batch);

}  // namespace kc2cpp::eval
