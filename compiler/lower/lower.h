// Keras layer classes -> IR ops, with shape inference.
// Every problem (unsupported or custom layer, bad config, weights that disagree with the
// config) is collected; if there are any, one kc2cpp::Error lists them all.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "load/keras_model.h"

namespace kc2cpp::lower {

// What `kc2cpp inspect` shows of each layer of the top-level model, in config order.
struct LayerSummary {
  std::string name, class_name;
  std::vector<ir::Shape> output_shapes;  // per sample, of the first call's outputs
  bool lowered = false;            // false: never called (output_shape unknown)
  std::vector<std::string> inbound;  // Functional: "dense_1[0][0]" per input tensor of every call, in order
};
struct ModelSummary {
  std::vector<LayerSummary> layers;
  bool graph = false;  // a Functional model that is not a chain: Keras's summary has a "Connected to" column
};

// Every config value is read through the typed accessors of lower/context.h, whose problems name the
// key. A JSON access that is not (a bug in kc2cpp) still gives an Error naming the file and layer, with
// this text and the JSON library's reason; the fuzz targets treat an Error holding it as a finding.
inline constexpr const char* kUncheckedConfigAccess =
    "kc2cpp could not read its config (an unchecked access, a bug in kc2cpp: please report it with the file)";

// `summary`, when given, is filled for `kc2cpp inspect`.
ir::Graph lower(const load::KerasModel& model, ModelSummary* summary = nullptr);

}  // namespace kc2cpp::lower
