// Weight packing of the recurrent family's ops (called by plan.cpp's pack_weights for every op):
// the layouts runtime_min/kc2cpp_kernels_recurrent.h reads.
#pragma once

#include <utility>
#include <vector>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::plan {

// (IR weight index, packed weight) for each weight of `op` if it is a recurrent op, else none.
// Keras's layouts, each gate's u columns a row that the emitter pads per ISA (PackedWeight::row;
// the runtime's UW = kc::row_floats(u) is the gate stride): kernel [in][G*u], recurrent kernel
// [u][G*u], bias [G*u], GRU reset_after bias [2][3u] (b_in row, then b_rec row). ConvLSTM: its two
// convolutions' kernels and bias as pack_conv.h packs a Conv's, rows of 4F output channels.
std::vector<std::pair<int, PackedWeight>> pack_recurrent_weights(const ir::Graph& g, const ir::Op& op);

}  // namespace kc2cpp::plan
