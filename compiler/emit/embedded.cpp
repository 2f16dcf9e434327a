#include "emit/embedded.h"

#include "error.h"

namespace kc2cpp::embedded {

std::string template_section(const std::string& file, const std::string& section) {
  for (int i = 0; i < kTemplateCount; ++i) {
    if (file != kTemplates[i].name) continue;
    const std::string text = kTemplates[i].text, marker = "//@ " + section + "\n";
    size_t start = text.rfind(marker, 0) == 0 ? 0 : text.find("\n" + marker);
    if (start == std::string::npos) break;
    start = text.find('\n', start + (start == 0 ? 0 : 1)) + 1;  // the line after the marker
    size_t end = text.find("\n//@ ", start - 1);
    end = end == std::string::npos ? text.size() : end + 1;
    return "\n" + text.substr(start, end - start);
  }
  throw Error("internal: template " + file + " has no section '" + section + "' (templates/README.md)");
}

}  // namespace kc2cpp::embedded
