// Keras class name -> lowering function. The one list to extend when a layer is added.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "lower/layers.h"

namespace kc2cpp::lower {

namespace {
struct Entry {
  const char* class_name;
  Lowering fn;
  MaskUse mask = MaskUse::Drop;
};
constexpr MaskUse kPass = MaskUse::Pass, kOwn = MaskUse::Own, kCombine = MaskUse::Combine,
                  kRefuse = MaskUse::Refuse;
constexpr Entry kLayers[] = {
    {"Dense", {lower_dense}, kPass},
    {"EinsumDense", lower_einsum_dense},
    {"Activation", {lower_activation}, kPass},
    {"Dropout", {lower_identity}, kPass},
    {"SpatialDropout1D", {lower_identity}, kPass},
    {"SpatialDropout2D", {lower_identity}, kPass},
    {"SpatialDropout3D", {lower_identity}, kPass},
    {"GaussianNoise", {lower_identity}, kPass},
    {"GaussianDropout", {lower_identity}, kPass},
    {"AlphaDropout", {lower_identity}, kPass},
    {"ActivityRegularization", {lower_identity}, kPass},
    {"Flatten", lower_flatten},
    {"Reshape", lower_reshape},
    {"ReLU", {lower_relu}, kPass},
    {"LeakyReLU", {lower_leaky_relu}, kPass},
    {"ELU", {lower_elu}, kPass},
    {"PReLU", {lower_prelu}, kPass},
    {"Softmax", {lower_softmax}, kRefuse},
    // conv family
    {"Conv1D", lower_conv},
    {"Conv2D", lower_conv},
    {"Conv3D", lower_conv},
    {"DepthwiseConv1D", lower_depthwise_conv},
    {"DepthwiseConv2D", lower_depthwise_conv},
    {"SeparableConv1D", lower_separable_conv},
    {"SeparableConv2D", lower_separable_conv},
    {"Conv1DTranspose", lower_conv_transpose},
    {"Conv2DTranspose", lower_conv_transpose},
    {"Conv3DTranspose", lower_conv_transpose},
    {"MaxPooling1D", lower_pooling},
    {"MaxPooling2D", lower_pooling},
    {"AveragePooling1D", lower_pooling},
    {"AveragePooling2D", lower_pooling},
    {"MaxPooling3D", lower_pooling},
    {"AveragePooling3D", lower_pooling},
    {"GlobalMaxPooling1D", lower_global_pooling},
    {"GlobalMaxPooling2D", lower_global_pooling},
    {"GlobalAveragePooling1D", {lower_global_pooling}, kOwn},
    {"GlobalAveragePooling2D", lower_global_pooling},
    {"GlobalMaxPooling3D", lower_global_pooling},
    {"GlobalAveragePooling3D", lower_global_pooling},
    // recurrent family
    {"SimpleRNN", {lower_simple_rnn, lower_simple_rnn_call}, kOwn},
    {"LSTM", {lower_lstm, lower_lstm_call}, kOwn},
    {"GRU", {lower_gru, lower_gru_call}, kOwn},
    {"RNN", {lower_rnn, lower_rnn_call}, kOwn},
    {"Bidirectional", {lower_bidirectional, lower_bidirectional_call}, kOwn},
    {"TimeDistributed", {lower_time_distributed}, kOwn},
    {"Masking", {lower_masking}, kOwn},
    {"ConvLSTM1D", {nullptr, lower_conv_lstm}, kRefuse},
    {"ConvLSTM2D", {nullptr, lower_conv_lstm}, kRefuse},
    {"ConvLSTM3D", {nullptr, lower_conv_lstm}, kRefuse},
    // embedding, normalization and shape family
    {"Embedding", {lower_embedding}, kOwn},
    {"BatchNormalization", {lower_batch_norm}, kPass},
    {"LayerNormalization", {lower_layer_norm}, kPass},
    {"UnitNormalization", {lower_unit_norm}, kPass},
    {"GroupNormalization", {lower_group_norm}, kPass},
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
    {"Add", {nullptr, lower_merge}, kCombine},
    {"Subtract", {nullptr, lower_merge}, kCombine},
    {"Multiply", {nullptr, lower_merge}, kCombine},
    {"Average", {nullptr, lower_merge}, kCombine},
    {"Maximum", {nullptr, lower_merge}, kCombine},
    {"Minimum", {nullptr, lower_merge}, kCombine},
    {"Divide", {nullptr, lower_merge}},      // Keras 3 operations only (x / y)
    {"TrueDivide", {nullptr, lower_merge}},
    {"TFOpLambda", {nullptr, lower_tf_op}},  // tf.keras 2: tensor-and-number arithmetic only
    {"NotEqual", {nullptr, lower_mask_op}},  // Keras 3 operations that compute masks (layers_mask_ops.cpp)
    {"Any", {nullptr, lower_mask_op}},
    {"ExpandDims", {nullptr, lower_mask_op}},
    {"OnesLike", {nullptr, lower_mask_op}},
    {"ZerosLike", {nullptr, lower_mask_op}},
    {"LogicalOr", {nullptr, lower_mask_op}},
    {"LogicalAnd", {nullptr, lower_mask_op}},
    {"Concatenate", {nullptr, lower_concatenate}, kCombine},
    {"Dot", {nullptr, lower_dot}, kCombine},
    {"Attention", {nullptr, lower_attention}, kOwn},
    {"AdditiveAttention", {nullptr, lower_additive_attention}, kOwn},
    {"MultiHeadAttention", {nullptr, lower_multi_head_attention}, kOwn},
    // preprocessing family
    {"Rescaling", {lower_rescaling}, MaskUse::PassK3},
    {"Normalization", {lower_normalization}, MaskUse::PassK3},
    {"CenterCrop", lower_center_crop},
    {"Resizing", lower_resizing},
};
}  // namespace

Lowering find_lowering(const std::string& class_name) {
  for (const Entry& e : kLayers)
    if (class_name == e.class_name) return e.fn;
  return {};
}

MaskUse find_mask_use(const std::string& class_name) {
  for (const Entry& e : kLayers)
    if (class_name == e.class_name) return e.mask;
  return MaskUse::Drop;
}

namespace {

std::vector<int> lower_unmasked(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const Lowering fn = find_lowering(layer.class_name);
  if (fn.call) return fn.call(cx, layer, inputs);
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; a " + layer.class_name +
                       " layer takes one"};
  return {fn.one(cx, layer, inputs[0])};
}

}  // namespace

std::vector<int> lower_call(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  MaskUse use = find_mask_use(layer.class_name);
  if (use == MaskUse::PassK3) use = cx.keras_major() >= 3 ? MaskUse::Pass : MaskUse::Drop;
  const bool masked = std::any_of(inputs.begin(), inputs.end(), [&](int t) { return cx.has_mask(t); });
  if (masked && use == MaskUse::Refuse)
    throw LayerProblem{"receives a Keras mask (from Embedding(mask_zero=True) or Masking), which Keras applies in this "
                       "layer and kc2cpp does not; remove the mask or this layer"};
  std::vector<int> out = lower_unmasked(cx, layer, inputs);
  if (!masked) return out;
  for (int t : out) {
    if (use == MaskUse::Pass) cx.copy_mask(inputs[0], t);
    if (use == MaskUse::Combine) combine_masks(cx, layer, inputs, t);
  }
  return out;
}

}  // namespace kc2cpp::lower
