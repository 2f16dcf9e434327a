// Weight packing of the recurrent family's ops (called by plan.cpp's pack_weights for every op):
// the layouts runtime_min/kc2cpp_kernels_recurrent.h reads.
#pragma once

#include <utility>
#include <vector>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::plan {

// (IR weight index, packed weight) for each weight of `op` if it is a recurrent op, else none.
// With UG = ir::gate_stride(units), gate g's unit j goes to column g * UG + j, other columns 0:
// - kernel [in][G*u] -> [in][G*UG];  recurrent kernel [u][G*u] -> [u][G*UG];
// - bias [G*u] -> [G*UG];  GRU reset_after bias [2][3u] -> [2][3UG] (b_in row, then b_rec row).
std::vector<std::pair<int, PackedWeight>> pack_recurrent_weights(const ir::Graph& g, const ir::Op& op);

}  // namespace kc2cpp::plan
