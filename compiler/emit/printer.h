// Emits text with named substitutions and scoped indentation (after protobuf's io::Printer):
//   p.emit({{"name", "dense_1"}}, R"cc(
//     // $name$
//   )cc");
// The text's common indentation and its first and last (blank) lines are dropped; every line
// gets the current indentation. `$var$` must be in `vars` (a missing one is a bug: it throws);
// `$$` writes a single '$'.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kc2cpp::emit {

class Printer {
 public:
  using Vars = std::vector<std::pair<std::string, std::string>>;

  void emit(const Vars& vars, std::string_view text);
  void emit(std::string_view text) { emit({}, text); }
  void line(const std::string& text);  // one line, no substitution
  void blank();                        // one blank line, never two in a row
  void raw(const std::string& text);   // verbatim (pasted runtime sources), newline-terminated

  // Indents the lines emitted while the returned object lives.
  class Indent {
   public:
    explicit Indent(Printer& p) : p_(p) { p_.indent_ += 2; }
    ~Indent() { p_.indent_ -= 2; }
    Indent(const Indent&) = delete;
    Indent& operator=(const Indent&) = delete;
   private:
    Printer& p_;
  };

  std::string str() const { return out_; }

 private:
  int indent_ = 0;
  std::string out_;
};

}  // namespace kc2cpp::emit
