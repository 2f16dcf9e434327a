// Weight packing of the conv family's ops (called by plan.cpp's pack_weights for every op):
// the layouts runtime_min/kc2cpp_kernels_conv.h reads.
#pragma once

#include <utility>
#include <vector>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::plan {

// (IR weight index, packed weight) for each weight of `op` if it is a conv-family op, else none:
// the IR's layouts, with rows of output channels (padded per ISA by the emitter, PackedWeight::row):
// - Conv: kernel [G*KH*KW*C/G][F/G], bias [G][F/G];
// - ConvTranspose: kernel [KH*KW*C][F], bias [F];
// - DepthwiseConv: kernel [KH*KW][C], bias [C].
std::vector<std::pair<int, PackedWeight>> pack_conv_weights(const ir::Graph& g, const ir::Op& op);

}  // namespace kc2cpp::plan
