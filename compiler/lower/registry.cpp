// Keras class name -> lowering function. The one list to extend when a layer is added.
#include <cstring>
#include <string>
#include <vector>

#include "lower/layers.h"

namespace kc2cpp::lower {

namespace {
struct Entry {
  const char* class_name;
  Lowering fn;
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
    {"Conv1D", lower_conv},
    {"Conv2D", lower_conv},
    {"DepthwiseConv1D", lower_depthwise_conv},
    {"DepthwiseConv2D", lower_depthwise_conv},
    {"SeparableConv1D", lower_separable_conv},
    {"SeparableConv2D", lower_separable_conv},
    {"Conv1DTranspose", lower_conv_transpose},
    {"Conv2DTranspose", lower_conv_transpose},
    {"MaxPooling1D", lower_pooling},
    {"MaxPooling2D", lower_pooling},
    {"AveragePooling1D", lower_pooling},
    {"AveragePooling2D", lower_pooling},
    {"GlobalMaxPooling1D", lower_global_pooling},
    {"GlobalMaxPooling2D", lower_global_pooling},
    {"GlobalAveragePooling1D", lower_global_pooling},
    {"GlobalAveragePooling2D", lower_global_pooling},
    // recurrent family
    {"SimpleRNN", lower_simple_rnn},
    {"LSTM", lower_lstm},
    {"GRU", lower_gru},
    {"RNN", lower_rnn},
    {"Bidirectional", {lower_bidirectional, lower_bidirectional_call}},
    {"TimeDistributed", lower_time_distributed},
    // embedding, normalization and shape family
    {"Embedding", lower_embedding},
    {"BatchNormalization", lower_batch_norm},
    {"LayerNormalization", lower_layer_norm},
    {"UnitNormalization", lower_unit_norm},
    {"GroupNormalization", lower_group_norm},
    {"Permute", lower_permute},
    {"RepeatVector", lower_repeat_vector},
    {"ZeroPadding1D", lower_zero_padding},
    {"ZeroPadding2D", lower_zero_padding},
    {"ZeroPadding3D", lower_zero_padding},
    {"Cropping1D", lower_cropping},
    {"Cropping2D", lower_cropping},
    {"Cropping3D", lower_cropping},
    {"UpSampling1D", lower_upsampling},
    {"UpSampling2D", lower_upsampling},
    {"UpSampling3D", lower_upsampling},
    // merge family
    {"Add", {nullptr, lower_merge}},
    {"Subtract", {nullptr, lower_merge}},
    {"Multiply", {nullptr, lower_merge}},
    {"Average", {nullptr, lower_merge}},
    {"Maximum", {nullptr, lower_merge}},
    {"Minimum", {nullptr, lower_merge}},
    {"Divide", {nullptr, lower_merge}},      // Keras 3 operations only (x / y)
    {"TrueDivide", {nullptr, lower_merge}},
    {"TFOpLambda", {nullptr, lower_tf_op}},  // tf.keras 2: tensor-and-number arithmetic only
    {"Concatenate", {nullptr, lower_concatenate}},
    {"Dot", {nullptr, lower_dot}},
    // preprocessing family
    {"Rescaling", lower_rescaling},
    {"Normalization", lower_normalization},
    {"CenterCrop", lower_center_crop},
    {"Resizing", lower_resizing},
};
}  // namespace

Lowering find_lowering(const std::string& class_name) {
  for (const Entry& e : kLayers)
    if (class_name == e.class_name) return e.fn;
  return {};
}

std::vector<int> lower_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const Lowering fn = find_lowering(layer.class_name);
  if (fn.call) return fn.call(cx, layer, inputs);
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; a " + layer.class_name +
                       " layer takes one"};
  return {fn.one(cx, layer, inputs[0])};
}

}  // namespace kc2cpp::lower
