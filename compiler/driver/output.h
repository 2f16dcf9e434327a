// Writing the generated files: only regular files, never the input, nothing half-written.
//
// Rules (each refusal is an Error naming the user's path, the reason and what to do):
//   - an output path names a regular file or nothing yet; an existing directory, device (/dev/null,
//     /dev/full), FIFO or socket is refused, never written to or replaced;
//   - an output path that is a symbolic link is refused: kc2cpp neither replaces the link nor writes
//     through it (pass the link's target instead);
//   - no output may be an input (the model, eval's .npy inputs), and no two outputs may be the same file: existing files are
//     compared by device and inode, files still to be made by their directory's device and inode and
//     their name, so "m.h5", "./m.h5" and a hard link of m.h5 are all the same file;
//   - the directory must exist and be writable; a missing one is named ("the directory 'out' does not
//     exist") rather than reported under a temporary name.
// Writing: each file goes to a new temporary file beside it ("<path>.kc2cpp-tmp-<pid>", created with
// O_EXCL, never following a link); only when every file is complete are they renamed over their targets.
// On any error, and on SIGINT, SIGTERM or SIGHUP meanwhile, the temporary files are removed (the
// signal then terminates kc2cpp as it would have). SIGKILL cannot be caught: it may leave a temporary
// file, never a half-written output.
#pragma once

#include <string>
#include <vector>

namespace kc2cpp::driver {

struct OutputFile {
  std::string path;  // as the user gave it
  std::string text;
};

// Throws Error if any of `outputs` may not be written (the rules above); creates and changes nothing.
// `inputs` are the files the run reads (the model first); they need not exist (the loader reports that).
void check_outputs(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);

// check_outputs, then writes every file (temporary file + rename). Throws Error on failure, leaving
// no file of this call behind.
void write_outputs(const std::vector<std::string>& inputs, const std::vector<OutputFile>& files);

}  // namespace kc2cpp::driver
