// The example's platform on a desktop host: console output to stdout, no stack measurement.
// Building main.cpp with this file gives the host-side reference run of the same program.
#include <cstdio>

#include "platform.h"

extern "C" void platform_write(const char* text) { std::fputs(text, stdout); }

extern "C" long platform_ticks(void) { return -1; }
extern "C" long platform_stack_used(void) { return -1; }
