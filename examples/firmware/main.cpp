// Runs the kc2cpp-compiled model on the inputs shipped beside it (inputs.npy, embedded at build
// time as bit patterns) and prints every output as the hex bits of the float, one line per
// sample: `y[<sample>]: <bits> <bits> ...`. Built twice from the same source: as Cortex-M4F
// firmware (startup.c, semihosting) and for the host (host_platform.cpp); the two must print
// the same lines. No heap, no exceptions, no stdio on the firmware.
#include <cstdint>
#include <cstring>

#include "inputs.h"       // generated at build time from inputs.npy
#include "platform.h"
#include "walkthrough.h"  // generated at build time from model.h5 by add_keras_model

namespace {

static_assert(kInputsCols == walkthrough::kInput0Size, "inputs.npy does not match the model's input");

walkthrough::Workspace workspace;  // the model's arena: plain data in .bss

// Appends `v` in decimal to `out`; returns the new end.
char* put_decimal(char* out, unsigned long v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

char* put_hex32(char* out, std::uint32_t v) {
  for (int shift = 28; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(v >> shift) & 0xfu];
  return out;
}

char* put_text(char* out, const char* text) {
  while (*text) *out++ = *text++;
  return out;
}

void print_outputs(long sample, const float* y) {
  char line[32 + 9 * walkthrough::kOutput0Size];
  char* p = put_decimal(put_text(line, "y["), static_cast<unsigned long>(sample));
  p = put_text(p, "]:");
  for (int j = 0; j < walkthrough::kOutput0Size; ++j) {
    std::uint32_t bits;
    std::memcpy(&bits, &y[j], sizeof bits);
    *p++ = ' ';
    p = put_hex32(p, bits);
  }
  put_text(p, "\n")[0] = '\0';
  platform_write(line);
}

}  // namespace

int main() {
  platform_write("kc2cpp firmware example: model walkthrough, ISA path ");
  platform_write(walkthrough::isa());
  platform_write("\n");

  float x[walkthrough::kInput0Size];
  float y[walkthrough::kOutput0Size];
  long ticks = 0;
  for (long s = 0; s < kInputsRows; ++s) {
    std::memcpy(x, &kInputsBits[s * kInputsCols], sizeof x);
    const long t0 = platform_ticks();
    walkthrough::predict(x, y, workspace);
    ticks += (platform_ticks() - t0) & 0xFFFFFF;
    print_outputs(s, y);
  }
  if (platform_ticks() >= 0) {
    char line[64];
    char* p = put_decimal(put_text(line, "ticks per predict: "), static_cast<unsigned long>(ticks / kInputsRows));
    put_text(p, "\n")[0] = '\0';
    platform_write(line);
  }

  const long stack = platform_stack_used();
  if (stack >= 0) {
    char line[64];
    put_text(put_decimal(put_text(line, "stack used: "), static_cast<unsigned long>(stack)), " bytes\n")[0] = '\0';
    platform_write(line);
  }
  platform_write("done\n");
  return 0;
}
