// What the loader hands to the lowering: the model config and the weights, nothing else.
// The loader knows file formats only; it never interprets layer math.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error.h"

namespace kc2cpp::load {

struct NamedArray {
  // Legacy files: as listed in weight_names, e.g. "dense/kernel:0", "sequential/dense/kernel".
  // Keras 3 layout (.keras, *.weights.h5): the layer names from the top-level layer down, then the
  // variable: "dense/kernel", "lstm/lstm_cell/bias", "base/dense_1/kernel" (a nested model 'base'),
  // or the variable's index where its name is unknown ("base/custom/0").
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;      // converted to float32 (float64/float16/bfloat16 sources are converted exactly or by rounding to nearest)
};

struct LayerWeights {
  std::string layer;            // top-level layer name, as in model_weights.layer_names
  // Keras's order (legacy weight_names): trainable then non-trainable, each in creation order, over
  // the layer and its sublayers (a nested model: all its layers' trainable weights, then the rest;
  // unless frozen: then in place); Bidirectional forward then backward.
  std::vector<NamedArray> arrays;
};

struct KerasModel {
  std::string path;             // the file as the user named it (for messages)
  std::string keras_version;    // "2.15.0", "3.12.0"; empty if the file has none
  std::string backend;          // "tensorflow", "jax", ...
  nlohmann::json config;        // the model config: {"class_name": ..., "config": {...}}
  std::vector<LayerWeights> layers;  // model order: one per entry of model.layers (legacy layer_names)

  // The weights of layer `name`, or nullptr if the file has no group for it.
  const LayerWeights* weights_of(const std::string& name) const;
};

// Reads a Keras model: with `weights` empty, a full-model file (legacy HDF5 .h5 or a .keras archive);
// otherwise `path` is an architecture JSON (model.to_json()) and `weights` the file model.save_weights()
// wrote (Keras 3 *.weights.h5 or a tf.keras legacy .h5). Every format gives the same KerasModel.
// Throws kc2cpp::Error with a message naming the file and saying what to do (missing, not a model,
// damaged, weights-only file without its architecture, weights of another model, bad JSON, ...).
//
// libhdf5 1.10 can crash (segfault in H5HG_read), loop forever or ask for gigabytes on some damaged
// files, so on POSIX systems load_model runs the reading (HDF5, zip, JSON) in a child process (fork) that
//   - dies with kc2cpp (Linux: PR_SET_PDEATHSIG), so killing kc2cpp never leaves it running;
//   - may use at most `max_memory` bytes of address space (RLIMIT_AS); 0 means the environment
//     variable KC2CPP_MAX_MEMORY (gigabytes of 2^30 bytes, e.g. "16") or else the default,
//     kDefaultMaxMemory or 4 times the file's size, whichever is larger;
//   - must answer within 30 s + 1 s per 20 MB of file (`timeout`, if not zero, instead: the fuzz target
//     gives libhdf5's endless loops 2 s).
// The error then says which happened: libhdf5 crashed (a signal while reading), the file asked for
// more memory than the limit (and how to raise it), the time ran out, or kc2cpp itself failed.
KerasModel load_model(const std::string& path, const std::string& weights = "", uint64_t max_memory = 0,
                      std::chrono::milliseconds timeout = {});
inline constexpr uint64_t kDefaultMaxMemory = uint64_t{8} << 30;

// load_model_in_process ran out of memory (std::bad_alloc, or libhdf5 failing to allocate).
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

// Throws Error if `path` is a FIFO, device or socket: never opened, since reading one could block.
// Anything else (missing, a directory, a regular file) is left to the loader's own checks.
// `what_to_do` ends the message.
void require_not_special(const std::string& path,
                         const std::string& what_to_do = "kc2cpp reads a model file saved with model.save('model.h5') "
                                                         "(copy the model into a file first)");

//
// load_model without that isolation: the same checks and results, in the calling process. Exposed for
// tests (e.g. checking that no HDF5 handle leaks) and for debugging; prefer load_model.
KerasModel load_model_in_process(const std::string& path, const std::string& weights = "");

}  // namespace kc2cpp::load
