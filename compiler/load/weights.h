// The two weight layouts, private to the loader. Both fill KerasModel::layers: one LayerWeights per
// top-level layer, in model order, its arrays in Keras's weight order (the legacy weight_names order).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "load/hdf5.h"
#include "load/keras_model.h"

namespace kc2cpp::load {

// The weights file does not hold what the architecture implies (another model's weights, or a
// file edited by hand). The message says what differs; the caller adds the files and the advice.
class Mismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The architecture cannot be walked to find its weights (e.g. a layer entry without class_name).
class ConfigProblem : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Legacy layout: the group holding attribute layer_names (model_weights of a full-model file, or the
// root of a tf.keras save_weights() file), one subgroup per layer with attribute weight_names.
// Arrays are named as weight_names lists them. Throws h5::Failure.
std::vector<LayerWeights> read_legacy_weights(const h5::File& file, hid_t weights_root);

// The layer names a legacy weights group lists (attribute layer_names), in order.
std::vector<std::string> legacy_layer_names(const h5::File& file, hid_t weights_root);

// Keras 3 layout (model.weights.h5 in a .keras archive, or a *.weights.h5 file; tf.keras 2.13+ writes
// it too): objects at layers/<snake_case class name + per-list counter>/, each holding its own
// variables in vars/0, vars/1, ... and its child objects (cell, forward_layer, backward_layer, layer,
// layers/...). The walk replays Keras's naming over `config` (the model config, Keras envelope).
// Arrays are named by the path of layer names below the top-level layer plus the variable's name
// ("dense/kernel", "lstm/lstm_cell/bias", "base/inner/conv/kernel"), or its index where the name
// is not known ("base/custom/0"). keras_major (2 or 3) picks the names that differ between versions.
// Throws h5::Failure, Mismatch or ConfigProblem.
std::vector<LayerWeights> read_keras3_weights(const h5::File& file, const nlohmann::json& config, int keras_major);

// The names of the layers a model lists in `layers` (what the legacy layer_names holds): a
// Sequential's InputLayer and Keras 3's plain operations (keras.src.ops.*) are not among them.
// Throws ConfigProblem.
std::vector<std::string> saved_layer_names(const nlohmann::json& config);

}  // namespace kc2cpp::load
