#include "emit/printer.h"

#include <stdexcept>

namespace kc2cpp::emit {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

bool blank_line(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

std::string substitute(std::string_view line, const Printer::Vars& vars) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '$') {
      out += line[i];
      continue;
    }
    const size_t end = line.find('$', i + 1);
    if (end == std::string_view::npos) throw std::logic_error("Printer: unterminated $ in: " + std::string(line));
    const std::string_view name = line.substr(i + 1, end - i - 1);
    if (name.empty()) {
      out += '$';
    } else {
      bool found = false;
      for (const auto& [k, v] : vars)
        if (k == name) out += v, found = true;
      if (!found) throw std::logic_error("Printer: no variable $" + std::string(name) + "$");
    }
    i = end;
  }
  return out;
}

}  // namespace

void Printer::emit(const Vars& vars, std::string_view text) {
  std::vector<std::string_view> lines = split_lines(text);
  if (!lines.empty() && blank_line(lines.front())) lines.erase(lines.begin());
  if (!lines.empty() && blank_line(lines.back())) lines.pop_back();
  size_t common = std::string_view::npos;
  for (std::string_view l : lines)
    if (!blank_line(l)) common = std::min(common, l.find_first_not_of(' '));
  for (std::string_view l : lines) {
    if (blank_line(l)) {
      blank();
      continue;
    }
    line(substitute(l.substr(common), vars));
  }
}

void Printer::line(const std::string& text) {
  if (text.empty()) return blank();
  out_.append(static_cast<size_t>(indent_), ' ');
  out_ += text;
  out_ += '\n';
}

void Printer::raw(const std::string& text) {
  out_ += text;
  if (!text.empty() && text.back() != '\n') out_ += '\n';
}

void Printer::blank() {
  if (out_.empty() || (out_.size() >= 2 && out_[out_.size() - 2] == '\n')) return;
  out_ += '\n';
}

}  // namespace kc2cpp::emit
