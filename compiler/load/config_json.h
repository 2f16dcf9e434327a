// Keras's JSON texts (model_config attribute, config.json, model.to_json() files), private to the loader.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kc2cpp::load {

// Parses Keras's JSON; Python's bare NaN, Infinity and -Infinity are accepted as numbers. On a syntax
// error throws Error "<path>: <what> is not valid JSON: at byte B of N: <reason>; <advice>", B counted
// in the original text.
nlohmann::json parse_keras_json(const std::string& path, const std::string& text, const std::string& what,
                                const std::string& advice);

// Throws Error "<path>: <what> is not a Keras model config: <why>; <advice>" unless `config` is an object
// with a "class_name" string and a "config" object (or, Keras < 2.2.3 Sequential, array).
void check_model_config(const std::string& path, const nlohmann::json& config, const std::string& what,
                        const std::string& advice);

// True if `config` passes check_model_config.
bool is_model_config(const nlohmann::json& config);

}  // namespace kc2cpp::load
