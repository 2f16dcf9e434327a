// Keras names -> C++ identifiers, and text made safe for comments.
//
// Mangling rule: ASCII letters and digits are kept; every run of other bytes (dots, dashes,
// spaces, UTF-8, underscores) becomes one '_'; a leading digit or an empty result gets a
// prefix. Distinct names that mangle alike ("a.b", "a_b") are told apart by a numeric
// suffix ("a_b", "a_b_2") in the order they are first asked for, so output stays
// deterministic. A caller-supplied prefix keeps results clear of C++ keywords and of the
// names the generated file itself declares.
#pragma once

#include <map>
#include <set>
#include <string>

namespace kc2cpp::emit {

class NameTable {
 public:
  // The identifier for `name` under `prefix` (same arguments -> same identifier).
  std::string get(const std::string& prefix, const std::string& name);

 private:
  std::map<std::string, std::string> given_;
  std::set<std::string> used_;
};

// Whether `s` is a valid C++ identifier that is not a keyword (for --name).
bool is_identifier(const std::string& s);

// `s` with no newlines, no "*/" and no trailing backslash: safe inside a // comment.
std::string comment_safe(const std::string& s);

}  // namespace kc2cpp::emit
