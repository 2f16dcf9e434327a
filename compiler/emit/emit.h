// The emitter: (Graph, Plan) -> one C++17 source file (+ optional header). It renders what
// the IR and the Plan say; it never changes the IR nor computes shapes or layouts.
#pragma once

#include <string>

#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::emit {

struct Options {
  std::string ns;           // namespace of the generated API (a valid identifier)
  std::string source_name;  // model file name(s) for the banner, "m.keras" or "m.json with m.weights.h5" (no directories: output stays path-free)
  std::string header_name;  // if non-empty, the .cpp includes this header, which holds the API
};

struct Output {
  std::string source;
  std::string header;  // empty unless Options::header_name is set
};

Output emit(const ir::Graph& g, const plan::Plan& plan, const Options& opt);

// The body of predict(): one call per op (emit_ops.cpp).
class Printer;
class NameTable;
void emit_ops(Printer& p, const ir::Graph& g, const plan::Plan& plan, NameTable& names);
std::string weight_identifier(NameTable& names, const ir::Graph& g, int weight);

}  // namespace kc2cpp::emit
