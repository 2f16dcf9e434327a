// The lowering functions of every supported layer family (one file per family).
// registry.cpp maps Keras class names to them: adding a layer touches that one table.
#pragma once

#include "lower/context.h"

namespace kc2cpp::lower {

// layers_core.cpp
int lower_dense(Context&, const Layer&, int input);
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
// layers_recurrent.cpp
// layers_shape.cpp

}  // namespace kc2cpp::lower
