// Built-in Keras layer classes, to tell them from custom classes in the "not supported" message.
#include "lower/unsupported.h"

#include <algorithm>
#include <iterator>

namespace kc2cpp::lower {
namespace {

// Every layer class exported by keras.layers in Keras 3.12 and by tf.keras.layers (with .experimental
// and .experimental.preprocessing) in tf.keras 2.15, plus tf.keras 1's CuDNN layers; sorted (binary
// search). Layer, Lambda, InputLayer and the framework wrappers (Wrapper, TFSMLayer, JaxLayer, FlaxLayer,
// TorchModuleWrapper) are left out: lower.cpp words those itself or they wrap foreign code.
constexpr const char* kBuiltin[] = {
    "AbstractRNNCell", "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "AlphaDropout",
    "Attention", "AugMix", "AutoContrast", "Average", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop",
    "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Convolution1D", "Convolution1DTranspose", "Convolution2D",
    "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D",
    "CuDNNGRU", "CuDNNLSTM", "CutMix", "Dense", "DenseFeatures", "DepthwiseConv1D", "DepthwiseConv2D",
    "Discretization", "Dot", "Dropout", "ELU", "EinsumDense", "Embedding", "Equalization", "Flatten", "GRU",
    "GRUCell", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GroupNormalization", "GroupQueryAttention", "HashedCrossing", "Hashing", "Identity", "IntegerLookup", "LSTM",
    "LSTMCell", "LayerNormalization", "LeakyReLU", "LocallyConnected1D", "LocallyConnected2D", "Masking",
    "MaxNumBoundingBoxes", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "Maximum", "MelSpectrogram", "Minimum", "MixUp", "MultiHeadAttention", "Multiply", "Normalization", "PReLU",
    "Permute", "Pipeline", "PreprocessingLayer", "RMSNormalization", "RNN", "RandAugment", "RandomBrightness",
    "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform",
    "RandomErasing", "RandomFlip", "RandomFourierFeatures", "RandomGaussianBlur", "RandomGrayscale", "RandomHeight",
    "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomWidth", "RandomZoom", "ReLU", "RepeatVector",
    "Rescaling", "Reshape", "Resizing", "ReversibleEmbedding", "STFTSpectrogram", "SeparableConv1D",
    "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell", "Softmax",
    "Solarization", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "SpectralNormalization",
    "StackedRNNCells", "StringLookup", "Subtract", "SyncBatchNormalization", "TextVectorization", "ThresholdedReLU",
    "TimeDistributed", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D",
};

bool builtin(const std::string& class_name) {
  const auto less = [](const char* a, const std::string& b) { return b.compare(a) > 0; };
  const auto* it = std::lower_bound(std::begin(kBuiltin), std::end(kBuiltin), class_name, less);
  return it != std::end(kBuiltin) && class_name == *it;
}

}  // namespace

std::string why_unsupported_builtin(const std::string& class_name) {
  if (!builtin(class_name)) return "";
  return "built-in Keras layer '" + class_name + "' is not supported by kc2cpp yet";
}

}  // namespace kc2cpp::lower
