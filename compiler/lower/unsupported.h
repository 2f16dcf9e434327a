// The message for a layer class kc2cpp does not lower: built-in Keras layers are named as such.
#pragma once

#include <string>

namespace kc2cpp::lower {

// "built-in Keras layer 'X' is not supported by kc2cpp yet" when X is the class name of a layer that
// Keras 3 or tf.keras 2 ships (keras.layers, including aliases and experimental ones); "" otherwise
// (a custom class, or a name Keras does not know).
std::string why_unsupported_builtin(const std::string& class_name);

}  // namespace kc2cpp::lower
