/* Bare-metal startup for a Cortex-M4F (qemu's mps2-an386 board) or a Cortex-M3 (mps2-an385):
 * vector table, reset handler (FPU on where there is one, .data copied, .bss zeroed, stack
 * painted, SysTick counting), console output and exit over ARM semihosting (qemu
 * -semihosting-config enable=on,target=native). No heap, no newlib stdio. */
#include <stdint.h>

#include "platform.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];
extern void __libc_init_array(void);
extern int main(void);

enum { kStackPaint = 0x57ac57acu };

/* ---- semihosting: BKPT 0xAB with the operation in r0 and its argument in r1 ---- */
enum { kSysWrite0 = 0x04, kSysExit = 0x18 };
enum { kAdpStoppedApplicationExit = 0x20026, kAdpStoppedRunTimeError = 0x20023 };

static int semihost(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void platform_write(const char* text) { semihost(kSysWrite0, text); }

/* qemu exits with status 0 for ApplicationExit and 1 for any other reason. */
static void __attribute__((noreturn)) platform_exit(int status) {
  semihost(kSysExit, (const void*)(uintptr_t)(status == 0 ? kAdpStoppedApplicationExit : kAdpStoppedRunTimeError));
  for (;;) {
  }
}

/* SysTick as a free-running 24-bit down-counter on the processor clock (a cycle counter on real
 * parts; under qemu -icount shift=0 the mps2 boards' 25 MHz clock ticks once per 40 instructions). */
static volatile uint32_t* const kSysTick = (volatile uint32_t*)0xE000E010u; /* CSR, RVR, CVR */

long platform_ticks(void) { return (long)(0xFFFFFFu - (kSysTick[2] & 0xFFFFFFu)); }

long platform_stack_used(void) {
  const uint32_t* p = _sstack;
  while (p < _estack && *p == kStackPaint) ++p;
  return (long)((const char*)_estack - (const char*)p);
}

/* newlib's __libc_init_array calls these; there is no crti/crtn (-nostartfiles). */
void _init(void) {}
void _fini(void) {}

/* ---- reset and faults ---- */
void Reset_Handler(void) {
#if defined(__ARM_FP)
  /* Full access to the FPU (CP10, CP11) before any floating-point instruction runs. */
  volatile uint32_t* const cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  kSysTick[1] = 0xFFFFFFu; /* reload */
  kSysTick[2] = 0;         /* clear */
  kSysTick[0] = 0x5u;      /* enable, processor clock, no interrupt */

  for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
  for (uint32_t* dst = _sbss; dst < _ebss;) *dst++ = 0;
  /* Paint the unused stack below this frame to measure the high-water mark later. */
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t* p = _sstack; p < sp - 16;) *p++ = kStackPaint;

  __libc_init_array();
  platform_exit(main());
}

static void Fault_Handler(void) {
  platform_write("firmware: fault\n");
  platform_exit(1);
}

/* Initial stack pointer, then the 15 system exception handlers (ARMv7-M). */
struct VectorTable {
  uint32_t* initial_sp;
  void (*handlers[15])(void);
};

__attribute__((section(".isr_vector"), used)) static const struct VectorTable kVectors = {
    _estack,
    {Reset_Handler, Fault_Handler /* NMI */, Fault_Handler /* HardFault */, Fault_Handler /* MemManage */,
     Fault_Handler /* BusFault */, Fault_Handler /* UsageFault */, 0, 0, 0, 0, Fault_Handler /* SVCall */,
     Fault_Handler /* DebugMon */, 0, Fault_Handler /* PendSV */, Fault_Handler /* SysTick */},
};
