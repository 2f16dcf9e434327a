// Keras layer classes -> IR ops, with shape inference.
// Every problem (unsupported or custom layer, bad config, weights that disagree with the
// config) is collected; if there are any, one kc2cpp::Error lists them all.
#pragma once

#include "ir/ir.h"
#include "load/keras_model.h"

namespace kc2cpp::lower {

ir::Graph lower(const load::KerasModel& model);

}  // namespace kc2cpp::lower
