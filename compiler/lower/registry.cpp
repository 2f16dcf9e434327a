// Keras class name -> lowering function. The one list to extend when a layer is added.
#include <cstring>

#include "lower/layers.h"

namespace kc2cpp::lower {

namespace {
struct Entry {
  const char* class_name;
  LowerFn fn;
};
constexpr Entry kLayers[] = {
    {"Dense", lower_dense},
    {"Activation", lower_activation},
    {"Dropout", lower_identity},
    {"SpatialDropout1D", lower_identity},
    {"SpatialDropout2D", lower_identity},
    {"SpatialDropout3D", lower_identity},
    {"GaussianNoise", lower_identity},
    {"GaussianDropout", lower_identity},
    {"AlphaDropout", lower_identity},
    {"ActivityRegularization", lower_identity},
    {"Flatten", lower_flatten},
    {"Reshape", lower_reshape},
    {"ReLU", lower_relu},
    {"LeakyReLU", lower_leaky_relu},
    {"ELU", lower_elu},
    {"PReLU", lower_prelu},
    {"Softmax", lower_softmax},
    // conv family
    // recurrent family
    // embedding, normalization and shape family
};
}  // namespace

LowerFn find_lowering(const std::string& class_name) {
  for (const Entry& e : kLayers)
    if (class_name == e.class_name) return e.fn;
  return nullptr;
}

}  // namespace kc2cpp::lower
