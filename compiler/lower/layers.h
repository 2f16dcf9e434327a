// The lowering functions of every supported layer family (one file per family).
// registry.cpp maps Keras class names to them: adding a layer touches that one table.
#pragma once

#include "lower/context.h"

namespace kc2cpp::lower {

// layers_core.cpp
int lower_dense(Context&, const Layer&, int input);
int lower_einsum_dense(Context&, const Layer&, int input);
int lower_activation(Context&, const Layer&, int input);
int lower_identity(Context&, const Layer&, int input);
int lower_flatten(Context&, const Layer&, int input);
int lower_reshape(Context&, const Layer&, int input);
// layers_activation.cpp
int lower_relu(Context&, const Layer&, int input);
int lower_leaky_relu(Context&, const Layer&, int input);
int lower_elu(Context&, const Layer&, int input);
int lower_prelu(Context&, const Layer&, int input);
int lower_softmax(Context&, const Layer&, int input);
// layers_conv.cpp
int lower_conv(Context&, const Layer&, int input);            // Conv1D, Conv2D, Conv3D
int lower_depthwise_conv(Context&, const Layer&, int input);  // DepthwiseConv1D, DepthwiseConv2D
int lower_separable_conv(Context&, const Layer&, int input);  // SeparableConv1D, SeparableConv2D
int lower_conv_transpose(Context&, const Layer&, int input);  // Conv1D/2D/3DTranspose
int lower_pooling(Context&, const Layer&, int input);         // Max/AveragePooling1D/2D
int lower_global_pooling(Context&, const Layer&, int input);  // Global{Max,Average}Pooling1D/2D
// A convolution's window along each spatial axis (1 to 3 of them, in order) and its padding
// ("valid", "same", "causal"), and the layer config's (kernel_size, strides, dilation_rate, padding).
struct ConvWindow {
  std::vector<int64_t> k, s, d;
  std::string padding;
};
ConvWindow conv_window(const json& cfg, int rank, bool causal_ok);
// The Conv1D/2D/3D (groups 1) of `input` [spatial..., C], or of each of its `lead` slices
// [lead][spatial..., C] when lead > 0, with Keras's kernel [k..., C, filters] and bias (or nullptr):
// returns the output [lead?][out spatial..., filters]. Conv3D: DepthTaps, then 2-D convolutions.
// `ids`: the graph weights of kernel and bias, added by the first call (kernel -1) and reused after.
struct ConvWeightIds {
  int kernel = -1, bias = -1;
};
int add_conv_slices(Context& cx, const Layer& layer, int input, int64_t lead, const ConvWindow& w,
                    const load::NamedArray& kernel, const load::NamedArray* bias, int64_t filters, ir::Activation act,
                    ConvWeightIds& ids);
// The geometry add_conv_slices gives one frame `in` [spatial..., C]: Conv3D's depth taps (volume;
// rank 3 only), the 2-D convolution (of each depth slice), the kernel in its rows (kernel_rows x
// filters, rearranged for Conv3D) and the frame's output shape [out spatial..., filters]. Checks
// the kernel's and bias's shapes.
struct FrameConv {
  bool volume = false;
  ir::DepthTapsAttrs taps;
  ir::ConvGeom geom;
  std::vector<float> kernel;
  int64_t kernel_rows = 0;
  ir::Shape out;
};
FrameConv frame_conv(const ir::Shape& in, const ConvWindow& w, const load::NamedArray& kernel,
                     const load::NamedArray* bias, int64_t filters);

// layers_recurrent.cpp
int lower_simple_rnn(Context&, const Layer&, int input);
int lower_lstm(Context&, const Layer&, int input);
int lower_gru(Context&, const Layer&, int input);
int lower_rnn(Context&, const Layer&, int input);  // RNN(SimpleRNNCell | LSTMCell | GRUCell)
// The same called on their own: {y}, or {y, h (, c)} with return_state=True.
std::vector<int> lower_simple_rnn_call(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_lstm_call(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_gru_call(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_rnn_call(Context&, const Layer&, const std::vector<int>& inputs);
int lower_bidirectional(Context&, const Layer&, int input);  // merge_mode=None refused (two tensors)
std::vector<int> lower_bidirectional_call(Context&, const Layer&, const std::vector<int>& inputs);  // any merge_mode
int lower_time_distributed(Context&, const Layer&, int input);
int lower_masking(Context&, const Layer&, int input);
std::vector<int> lower_conv_lstm(Context&, const Layer&, const std::vector<int>& inputs);  // ConvLSTM1D/2D/3D
// layers_shape.cpp
int lower_embedding(Context&, const Layer&, int input);
int lower_batch_norm(Context&, const Layer&, int input);
int lower_layer_norm(Context&, const Layer&, int input);
int lower_unit_norm(Context&, const Layer&, int input);
int lower_group_norm(Context&, const Layer&, int input);
int lower_permute(Context&, const Layer&, int input);
int lower_repeat_vector(Context&, const Layer&, int input);
int lower_zero_padding(Context&, const Layer&, int input);  // ZeroPadding1D/2D/3D
int lower_cropping(Context&, const Layer&, int input);      // Cropping1D/2D/3D
int lower_upsampling(Context&, const Layer&, int input);    // UpSampling1D/2D/3D
// layers_mask_ops.cpp: Keras 3's NotEqual, Any, ExpandDims, OnesLike, ZerosLike, LogicalOr, LogicalAnd
std::vector<int> lower_mask_op(Context&, const Layer&, const std::vector<int>& inputs);
// 1.0f for each row of `features` values of x (a Mask op comparing with NaN, which every value
// differs from), shaped `out`: the ones that stand for "no mask" (OnesLike, attention).
int ones_per_row(Context& cx, const Layer& layer, int x, int64_t features, ir::Shape out);
// layers_preprocessing.cpp
int lower_rescaling(Context&, const Layer&, int input);
int lower_normalization(Context&, const Layer&, int input);
int lower_center_crop(Context&, const Layer&, int input);
int lower_resizing(Context&, const Layer&, int input);

// Helpers shared between families (layers_shape.cpp): a Permute op's attrs for moving the axes of
// a per-sample shape `in` (output axis k is input axis perm[k]), and the permuted shape.
ir::PermuteAttrs make_permute(const ir::Shape& in, const std::vector<int>& perm);
ir::Shape permuted(const ir::Shape& in, const std::vector<int>& perm);
// x viewed as [outer][n][inner], cropped to [from, from + size) on the middle axis (a PadCrop op);
// `out` is the result's shape.
int crop_axis(Context& cx, const Layer& layer, int input, int64_t outer, int64_t n, int64_t inner, int64_t from,
              int64_t size, ir::Shape out);
// Whether a layer's data_format is "channels_first" (false for "channels_last" or none; other
// values are a LayerProblem).
bool channels_first(const json& cfg);

// layers_merge.cpp
std::vector<int> lower_merge(Context&, const Layer&, const std::vector<int>& inputs);  // Add, Subtract, Multiply, Average, Maximum, Minimum
std::vector<int> lower_concatenate(Context&, const Layer&, const std::vector<int>& inputs);
// The Keras mask of a merge's output `out` from its inputs' masks (registry.cpp's MaskUse::Combine).
void combine_masks(Context& cx, const Layer& layer, const std::vector<int>& inputs, int out);
std::vector<int> lower_tf_op(Context&, const Layer&, const std::vector<int>& inputs);  // TFOpLambda arithmetic
std::vector<int> lower_dot(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_attention(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_additive_attention(Context&, const Layer&, const std::vector<int>& inputs);
std::vector<int> lower_multi_head_attention(Context&, const Layer&, const std::vector<int>& inputs);

}  // namespace kc2cpp::lower
