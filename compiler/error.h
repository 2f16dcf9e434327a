// The one error type of the compiler. Messages are complete sentences for the user:
// what went wrong, where (file, layer), and what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace kc2cpp {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kc2cpp
