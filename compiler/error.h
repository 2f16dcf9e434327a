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

// A command-line argument that cannot mean anything (a malformed number, a data path without its
// dataset): kc2cpp exits 2, as for CLI usage errors, with a hint to run --help.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace kc2cpp
