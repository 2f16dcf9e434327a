// The streaming API of recurrent models: which models get `step()`, the one-timestep graph it
// runs, and the layout of the caller-owned State.
//
// A model gets State / reset() / step() when it has one input, one output, at least one recurrent
// op and, walking its
// ops from the input (whose leading axis is time, length T = kSequenceLength), every op reading
// a tensor that still has the time axis is one of
//   - per-timestep: Dense (on the last axis of a rank >= 2 tensor), Activation, Softmax over a
//     non-time axis, PReLU whose alpha is the same for every timestep, Reshape keeping the
//     leading T, Embedding, BatchNormalization / LayerNormalization not over the time axis,
//     Rescaling / Normalization (ChannelMap) whose parameters do not vary over time, elementwise
//     merges (Merge, ScalarOp) broadcasting no input over time, Concatenate not along time, Permute
//     keeping the time axis first (e.g. around a channels_first ConvLSTM), any op
//     run over T slices (TimeDistributed), Keras masks (Masking, Embedding(mask_zero=True));
//   - a forward recurrent layer (go_backwards=False, not half of a Bidirectional; SimpleRNN, LSTM,
//     GRU, ConvLSTM1D/2D/3D): with return_sequences=True its output keeps the time axis, with
//     False it is the end of time (so are a ConvLSTM's return_state h and c);
// and ops after the end of time are arbitrary (they see one vector per step). Not streamable:
// go_backwards, Bidirectional, anything mixing timesteps (Flatten/Reshape over time, pooling
// or convolution over time, ...), and ops of other families not listed in step.cpp.
//
// Contract: after reset(state), step(x_0) ... step(x_t) writes y_t, where y_t is
//   - row t of predict()'s output when the output keeps the time axis (return_sequences);
//   - else the output predict() gives for the sequence x_0..x_t, i.e. for t = T-1 exactly
//     predict()'s output on the whole sequence;
// bit for bit, because the step graph runs every per-timestep op on one timestep with the same
// operation order and each recurrent layer's step is the very cell function predict() loops.
// A timestep that a Keras mask marks (Masking: all features equal mask_value; Embedding(mask_zero=
// True): id 0) leaves every masked recurrent layer's state as it was, and its y_t is what
// predict() gives for that row: the previous output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::plan {

struct StateSlot {
  std::string layer;  // Keras layer name
  std::string what;   // "h" or "c" (a ConvLSTM's: [OD][OH][OW][F] floats)
  int64_t offset = 0, floats = 0;  // in State::v; offset and floats multiples of kPad (LSTM/GRU: gate_stride(units))
};

struct StepPlan {
  std::string why_not;  // non-empty: the model has recurrent layers but no step(); says why
  int64_t sequence_length = 0;  // T
  bool output_per_timestep = false;  // y_t is row t of predict()'s output (else: the output after x_t)
  // The one-timestep graph: inputs {x_t, then each state tensor read}, outputs {y_t, then each
  // state tensor written}; recurrent ops in step form (ir::RnnAttrs::step).
  ir::Graph graph;
  Plan plan;  // its buffers: state tensors are Location::State, the rest as usual
  std::vector<StateSlot> slots;
  int64_t state_floats = 0;  // the slots, then kPad floats of slack (kernels may read whole vectors)
};

// nullptr if g has no recurrent op; else the step plan (possibly with why_not set).
std::shared_ptr<const StepPlan> make_step_plan(const ir::Graph& g);

}  // namespace kc2cpp::plan
