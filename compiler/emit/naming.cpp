#include "emit/naming.h"

#include <cctype>

namespace kc2cpp::emit {

static bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static std::string mangle(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (ascii_alnum(c)) out += c;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "unnamed" : out;
}

std::string NameTable::get(const std::string& prefix, const std::string& name) {
  const std::string key = prefix + '\0' + name;
  auto it = given_.find(key);
  if (it != given_.end()) return it->second;
  const std::string base = prefix + mangle(name);
  std::string id = base;
  for (int n = 2; used_.count(id); ++n) id = base + "_" + std::to_string(n);
  used_.insert(id);
  given_[key] = id;
  return id;
}

bool is_identifier(const std::string& s) {
  static const std::set<std::string> kKeywords = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
      "char", "char16_t", "char32_t", "char8_t", "class", "compl", "concept", "const", "consteval", "constexpr",
      "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
      "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
      "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
      "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
      "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
      "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "std"};
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!ascii_alnum(c) && c != '_') return false;
  if (s.find("__") != std::string::npos || (s[0] == '_' && s.size() > 1 && std::isupper(static_cast<unsigned char>(s[1]))))
    return false;  // reserved
  return !kKeywords.count(s);
}

std::string comment_safe(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r') out += ' ';
    else if (c == '/' && !out.empty() && out.back() == '*') out += ' ', out += c;
    else out += c;
  }
  while (!out.empty() && (out.back() == '\\' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace kc2cpp::emit
