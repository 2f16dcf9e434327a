// The legacy weight layout (full-model .h5 files and tf.keras save_weights() files).
#include "load/weights.h"

namespace kc2cpp::load {
namespace {

LayerWeights read_layer(const h5::File& file, hid_t weights_root, const std::string& layer) {
  // Names are paths relative to the weights group; a layer name with '/' is a nested group.
  if (!h5::has_path(weights_root, layer))
    throw h5::Failure("layer '" + layer + "' is listed in the layer_names of " + h5::path_of(weights_root) +
                      " but has no group there");
  h5::Handle group = h5::open_group(weights_root, layer);
  LayerWeights out{layer, {}};
  for (const std::string& name : h5::read_chunked_strings(file, group.get(), "weight_names")) {
    if (!h5::has_path(group.get(), name))
      throw h5::Failure("weight '" + name + "' is listed in the weight_names of " + h5::path_of(group.get()) +
                        " but there is no such dataset");
    h5::Array a = h5::read_dataset(file, group.get(), name);
    out.arrays.push_back(NamedArray{name, std::move(a.shape), std::move(a.data)});
  }
  return out;
}

}  // namespace

std::vector<std::string> legacy_layer_names(const h5::File& file, hid_t weights_root) {
  return h5::read_chunked_strings(file, weights_root, "layer_names");
}

std::vector<LayerWeights> read_legacy_weights(const h5::File& file, hid_t weights_root) {
  std::vector<LayerWeights> layers;
  for (const std::string& layer : legacy_layer_names(file, weights_root))
    layers.push_back(read_layer(file, weights_root, layer));
  return layers;
}

}  // namespace kc2cpp::load
