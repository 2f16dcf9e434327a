/* What the example program needs from the machine it runs on: firmware (startup.c, over
 * semihosting) or a desktop host (host_platform.cpp). */
#ifndef KC2CPP_EXAMPLE_PLATFORM_H
#define KC2CPP_EXAMPLE_PLATFORM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a NUL-terminated string to the console. */
void platform_write(const char* text);

/* A 24-bit tick counter that counts up (differences modulo 2^24), or -1 where there is none. */
long platform_ticks(void);

/* Bytes of stack used so far (high-water mark), or -1 where it is not measured. */
long platform_stack_used(void);

#ifdef __cplusplus
}
#endif

#endif
