// What the loader hands to the lowering: the model config and the weights, nothing else.
// The loader knows file formats only; it never interprets layer math.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kc2cpp::load {

struct NamedArray {
  std::string name;             // as listed in the file's weight_names, e.g. "dense/kernel:0"
  std::vector<int64_t> shape;
  std::vector<float> data;      // converted to float32 (float64/float16/bfloat16 sources are converted exactly or by rounding to nearest)
};

struct LayerWeights {
  std::string layer;            // layer (group) name, as in model_weights.layer_names
  std::vector<NamedArray> arrays;  // in weight_names order
};

struct KerasModel {
  std::string path;             // the file as the user named it (for messages)
  std::string keras_version;    // "2.15.0", "3.12.0"; empty if the file has none
  std::string backend;          // "tensorflow", "jax", ...
  nlohmann::json config;        // the model config: {"class_name": ..., "config": {...}}
  std::vector<LayerWeights> layers;  // model order

  // The weights of layer `name`, or nullptr if the file has no group for it.
  const LayerWeights* weights_of(const std::string& name) const;
};

// Reads a full-model Keras file. Throws kc2cpp::Error with a message naming the file and
// saying what to do (missing, not HDF5, corrupt, weights-only file, bad JSON, ...).
KerasModel load_model(const std::string& path);

// libhdf5 1.10 can crash (segfault in H5HG_read) or loop forever on some damaged files, so on POSIX
// systems load_model runs the reading in a child process (fork) and turns a crash, or no answer within
// 30 s + 1 s per 20 MB of file, into an Error.
//
// load_model without that isolation: the same checks and results, in the calling process. Exposed for
// tests (e.g. checking that no HDF5 handle leaks) and for debugging; prefer load_model.
KerasModel load_model_in_process(const std::string& path);

}  // namespace kc2cpp::load
