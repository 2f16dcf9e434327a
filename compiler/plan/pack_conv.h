// Weight packing of the conv family's ops (called by plan.cpp's pack_weights for every op):
// the layouts runtime_min/kc2cpp_kernels_conv.h reads.
#pragma once

#include <utility>
#include <vector>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::plan {

// (IR weight index, packed weight) for each weight of `op` if it is a conv-family op, else none:
// - Conv: kernel [G*KH*KW*C/G][F/G] -> rows padded to round_up(F/G, kPad) with zeros;
//   bias [F] -> [G][round_up(F/G, kPad)] (each group's row padded with zeros);
// - ConvTranspose: kernel [KH*KW*C][F], bias [F] -> rows padded to round_up(F, kPad);
// - DepthwiseConv: kernel [KH*KW][C], bias [C] -> rows padded to round_up(C, kPad).
std::vector<std::pair<int, PackedWeight>> pack_conv_weights(const ir::Graph& g, const ir::Op& op);

}  // namespace kc2cpp::plan
