// Liveness-based buffer planning and weight layout for the generated code.
//
// Invariants of a Plan:
// - every tensor is either a model input (read-only, the caller's pointer), a view of another
//   tensor (Reshape: same storage), a slice of a Concatenate's output that its producer writes in
//   place (plan.cpp says when), or a slice [offset, offset + size) of one float arena;
// - arena offsets are multiples of kPad (16 floats, 64 bytes), except those of in-place
//   Concatenate slices, and every slice has kPad floats of room past its last element (kernels
//   store whole vectors; past an in-place slice lies a slice written later);
// - two slices overlap only if their tensors are never live at the same time;
// - packed weights are what the emitted kernels read, in the order they read them; rows that the
//   kernels read as whole vectors (Dense, conv and recurrent gate columns) are marked
//   (PackedWeight::row) and the emitter pads them for the build's ISA (runtime kc::kWPad: the
//   vector width on AVX2/AVX-512, none on SSE2, NEON and scalar builds, whose flash holds exactly
//   the parameters); a Dense kernel of one column is read one float at a time (kc::dense_one) and
//   is not padded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace kc2cpp::plan {

constexpr int64_t kPad = 16;  // must equal kc::kPad in runtime_min/kc2cpp_kernels.h

struct Location {
  enum Kind { Input, Arena, State } kind = Arena;  // State: streaming state (plan/step.h)
  int64_t index = 0;  // input number, arena offset or State offset, in floats
};

struct PackedWeight {
  std::string name;         // the IR weight's name (for the emitted identifier)
  std::string layout;       // human-readable layout note for the emitted comment
  std::vector<float> data;  // unpadded
  int64_t row = 0;          // > 0: data is rows of `row` floats, each padded to kc::kWPad when emitted
};

// w as rows of `row` floats (row divides its size), padded per ISA by the emitter; `what` names
// the layout ("kernel [in][units]"), the emitted comment adds how rows are padded.
PackedWeight padded_rows(const ir::Weight& w, int64_t row, const std::string& what);

// Floats of the emitted array on a build whose rows are padded to `wpad` floats (1, 8 or 16).
int64_t emitted_floats(const PackedWeight& w, int64_t wpad);

struct StepPlan;  // plan/step.h

struct Plan {
  std::vector<Location> where;        // per tensor id (unused tensors: Arena 0)
  int64_t arena_floats = 0;
  int64_t unshared_floats = 0;        // what one buffer per tensor would need (inspect reports both)
  std::vector<PackedWeight> weights;  // in first-use order
  std::vector<int> weight_slot;       // IR weight index -> index into `weights`, -1 if not emitted
  std::shared_ptr<const StepPlan> step;  // recurrent models: the streaming API (plan/step.h)
};

Plan make_plan(const ir::Graph& g);

}  // namespace kc2cpp::plan
