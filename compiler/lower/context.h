// What every layer lowering function sees: the layer, the graph being built, and the
// problem list. Layer families live in layers_*.cpp and register in registry.cpp.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/ir.h"
#include "load/keras_model.h"

namespace kc2cpp::lower {

using json = nlohmann::json;

struct Layer {
  std::string name;             // for ops, tensors, weights and messages: "dense_1", or "base/dense_1" inside
                                // the nested model layer 'base'
  std::string keras_name;       // the name in its own model's config, which the weights are filed under
  std::string class_name;
  std::string registered_name;  // Keras 3: "package>Name" for custom classes, else empty
  const json* config = nullptr; // the layer's "config" object
  const json* call = nullptr;   // Functional: this call's entry of inbound_nodes (Keras 3 operations
                                // read their number arguments there), else nullptr
};

// Thrown by lowering functions for a problem confined to one layer; the driver records it
// and goes on with the next layer where it can.
struct LayerProblem {
  std::string why;
};

class Context {
 public:
  Context(const load::KerasModel& model, ir::Graph& graph) : model_(model), graph_(graph) {}

  ir::Graph& graph() { return graph_; }
  const load::KerasModel& model() const { return model_; }
  int keras_major() const;  // 2 or 3 (from the file's keras_version)

  // The layer's weights, checked: exactly `count` arrays (throws LayerProblem otherwise).
  const std::vector<load::NamedArray>& weights(const Layer& layer, size_t count) const;
  // Checks an array's shape against what the config implies (throws LayerProblem).
  static void expect_shape(const load::NamedArray& a, const ir::Shape& want, const char* what);

  // Throws LayerProblem if `floats` more would take the graph's weights past ir::kMaxWeightFloats;
  // add_weight and add_param check it, a lowering that computes a big array checks it first.
  void check_weight_budget(int64_t floats) const;
  int add_weight(const Layer& layer, const load::NamedArray& a, ir::Shape shape);
  int add_weight(const Layer& layer, const load::NamedArray& a) { return add_weight(layer, a, a.shape); }
  // An array the lowering computed from the layer's parameters (e.g. BatchNorm's scale), named
  // "<layer>/<name>"; a vector unless `shape` is given.
  int add_param(const Layer& layer, const std::string& name, std::vector<float> data, ir::Shape shape = {});
  int add_op(const Layer& layer, ir::OpAttrs attrs, int input, ir::Shape out_shape);
  const ir::Shape& shape_of(int tensor) const { return graph_.tensors.at(tensor).shape; }

  // Keras masks (Embedding(mask_zero=True), Masking) ride along with tensors as Keras attaches them.
  // set_mask: tensor t gets the mask ir::MaskAttrs `a` (form Compute) computes from `source`
  // ([T, features]); its op is added by the first mask_of that needs it (none when no layer uses it).
  // set_unknown_mask: a mask kc2cpp does not compute (`why` says where it comes from).
  // mask_of(t): -1 when t has no mask, else the mask tensor [T, 1]; LayerProblem for an unknown one.
  // Which layers pass masks on: lower_call (registry.cpp).
  void set_mask(int tensor, const Layer& layer, int source, const ir::MaskAttrs& a);
  void set_unknown_mask(int tensor, const std::string& why);
  // A mask combined from the masks of `parts` (merges, layers_merge.cpp): And (a product of the
  // 0/1 masks), Or (their maximum), or Concat (along time; a part without a mask contributes ones,
  // a Compute mask with value NaN, which keeps every step). Unknown if any part's mask is.
  enum class Combine { And, Or, Concat };
  void set_combined_mask(int tensor, const Layer& layer, Combine how, const std::vector<int>& parts);
  void copy_mask(int from, int to);
  // Keras 3's mask= argument of one call: tensor t's mask is `mask` (a [T] tensor of 0/1) until the
  // returned binding is undone with unbind_mask (what t's mask was before).
  struct MaskBinding {
    int tensor = -1;
    bool had = false;
    size_t def = 0;
  };
  MaskBinding bind_mask(int tensor, const Layer& layer, int mask);
  void unbind_mask(const MaskBinding& b);
  int mask_of(int tensor);
  bool has_mask(int tensor) const { return masks_.count(tensor) > 0; }
  // Whether a layer has read tensor t's mask (mask_of) so far.
  bool mask_read(int tensor) const { return masks_read_.count(tensor) > 0; }

  // Nested models (a Sequential or Functional model used as a layer) are inlined: while one is
  // lowered, its name is on this stack. The file keeps ONE weight group for a top-level nested
  // model, holding the weights of every layer inside it at any depth; weights() finds a layer's
  // arrays there by name (see weights()).
  void enter_model(const std::string& keras_name) { scope_.push_back(keras_name); }
  void leave_model() { scope_.pop_back(); }
  // "base/inner/dense_1" for layer dense_1 inside model inner inside top-level layer base.
  std::string scoped(const std::string& keras_name) const;

 private:
  const load::KerasModel& model_;
  ir::Graph& graph_;
  std::vector<std::string> scope_;
  struct MaskDef {
    std::string layer, keras_class, unknown_why;  // unknown_why non-empty: not computed
    int source = -1;
    ir::MaskAttrs attrs;
    int tensor = -1;  // once added
    std::vector<int> parts;  // combined (source -1): the tensors whose masks it combines
    Combine how = Combine::And;
    int depth = 0;  // combinations below it (bounds mask_of's recursion)
  };
  std::vector<MaskDef> mask_defs_;
  int combined_mask(size_t index);
  std::map<int, size_t> masks_;  // tensor -> its mask in mask_defs_
  std::set<int> masks_read_;     // tensors whose mask mask_of gave
  mutable std::map<std::string, std::vector<load::NamedArray>> shares_;  // weights() inside nested models
};

// Throws LayerProblem unless every dimension is >= 1 and the count is at most ir::kMaxElements
// (`what`: "output", "input", for the message). Context::add_op checks every new tensor.
void check_shape(const ir::Shape& shape, const char* what);

// Every integer the lowering takes from a config: `v` must be an integer of magnitude at most
// ir::kMaxElements (2^30), so that shape arithmetic on a few of them cannot overflow int64 (LayerProblem
// naming `what` otherwise).
int64_t config_int(const json& v, const std::string& what);
// Every float option: a number within float32's range (NaN and infinities pass as they are).
float config_float(const json& v, const std::string& what);

// Config access with LayerProblem on missing/mistyped keys.
const json& require(const json& cfg, const char* key);
int64_t get_int(const json& cfg, const char* key);
float get_float(const json& cfg, const char* key, float fallback);
bool get_bool(const json& cfg, const char* key, bool fallback);
std::string get_string(const json& cfg, const char* key, const std::string& fallback);
// Probing, never throws: the string at `key` if `v` is an object holding one there, else "".
std::string string_at(const json& v, const char* key);
// A negative axis counts from the end of a per-sample shape of `rank` dims (Keras axes count
// the batch dimension: axis 1 is per-sample axis 0). Returns the per-sample axis.
int normalize_axis(int64_t keras_axis, size_t rank);

// Keras activation config value (string, or Keras 3 {"class_name": "function", "config": "relu"})
// -> an elementwise activation, or softmax/log_softmax reported through `softmax`.
struct ParsedActivation {
  ir::Activation act;
  bool softmax = false, log_softmax = false;
};
ParsedActivation parse_activation(const json& value, int keras_major);
// Adds the op(s) applying `p` to tensor `t` (none for linear) and returns the result tensor.
int apply_activation(Context& cx, const Layer& layer, const ParsedActivation& p, int t);

// A lowering function: adds ops for one layer with one input tensor, returns its output tensor.
using LowerFn = int (*)(Context&, const Layer&, int input);
// The general form, for layers that read several tensors (merges) or give several (Bidirectional
// with merge_mode=None): adds ops for one call of the layer, returns its output tensors.
using LowerCallFn = std::vector<int> (*)(Context&, const Layer&, const std::vector<int>& inputs);
struct Lowering {
  LowerFn one = nullptr;       // one tensor in, one out (also what TimeDistributed can wrap)
  LowerCallFn call = nullptr;  // preferred when set
  explicit operator bool() const { return one || call; }
};
// Empty if the class is not supported.
Lowering find_lowering(const std::string& class_name);
// What a layer does with a Keras mask on its inputs, as Keras 3 and tf.keras 2 do (registry.cpp).
enum class MaskUse {
  Drop,     // ignores it and gives none (Keras: supports_masking False); the default
  Pass,     // ignores it and passes the first input's mask on (supports_masking, no mask in call())
  PassK3,   // Pass in Keras 3, Drop in tf.keras 2 (Rescaling, Normalization)
  Own,      // its lowering reads it (Context::mask_of) and sets its outputs' masks itself
  Combine,  // merges: Keras combines the inputs' masks (combine_masks, layers_merge.cpp)
  Refuse,   // Keras applies it in call() and kc2cpp does not: refused when a mask arrives
};
MaskUse find_mask_use(const std::string& class_name);
// One call of `layer` on `inputs` through its Lowering (throws LayerProblem on a wrong input count).
std::vector<int> lower_call(Context& cx, const Layer& layer, const std::vector<int>& inputs);

}  // namespace kc2cpp::lower
