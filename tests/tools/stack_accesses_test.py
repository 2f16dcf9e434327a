#!/usr/bin/env python3
"""bench/stack_accesses.py on code whose spills are known: each function keeps a vector live across
an asm statement that clobbers every xmm register (so the compiler must store it and reload it),
inside the innermost loop, inside an outer loop only, or outside any loop. Compiled by each
compiler given, at -O2 and -O3, and disassembled by objdump, as bench/spills.sh does.

    stack_accesses_test.py CXX [CXX ...]
"""
import os
import subprocess
import sys
import tempfile

SOURCE = r"""
#include <immintrin.h>
#define CLOBBER asm volatile("" ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
                             "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory")
void inner(float* p, int n, int m) {
  for (int i = 0; i < n; ++i) {
    __m128 acc = _mm_loadu_ps(p + 4 * i);
    int j = 0;
    do { acc = _mm_mul_ps(acc, acc); CLOBBER; } while (++j < m);
    _mm_storeu_ps(p + 4 * i, acc);
  }
}
void outer(float* p, int n, int m) {
  for (int i = 0; i < n; ++i) {
    __m128 acc = _mm_loadu_ps(p + 4 * i);
    CLOBBER;
    int j = 0;  // at least once: no copy of the outer loop without the inner one
    do acc = _mm_mul_ps(acc, acc); while (++j < m);
    _mm_storeu_ps(p + 4 * i, acc);
  }
}
void straight(float* p) {
  __m128 acc = _mm_loadu_ps(p);
  CLOBBER;
  _mm_storeu_ps(p, _mm_mul_ps(acc, acc));
}
void none(float* p, int n) {
  for (int i = 0; i < n; ++i) _mm_storeu_ps(p + 4 * i, _mm_mul_ps(_mm_loadu_ps(p + 4 * i), _mm_set1_ps(2.0f)));
}
"""


def counts(cxx, level, tmp):
    src, obj = os.path.join(tmp, "t.cpp"), os.path.join(tmp, "t.o")
    with open(src, "w") as f:
        f.write(SOURCE)
    subprocess.run([cxx, level, "-c", src, "-o", obj], check=True)
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", obj], check=True, capture_output=True,
                         text=True).stdout
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "stack_accesses.py")
    out = subprocess.run([sys.executable, script], input=dis, check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        total, in_loops, innermost, name = line.split("\t")
        rows[name.split("(")[0]] = (int(total), int(in_loops), int(innermost))
    return rows


def main():
    failures = []
    for cxx in sys.argv[1:]:
        for level in ("-O2", "-O3"):
            with tempfile.TemporaryDirectory() as tmp:
                rows = counts(cxx, level, tmp)
            got = {name: rows.get(name, (0, 0, 0)) for name in ("inner", "outer", "straight", "none")}
            checks = {
                "inner: accesses in the innermost loop": got["inner"][2] > 0,
                "outer: accesses in a loop": got["outer"][1] > 0,
                "outer: none in the innermost loop": got["outer"][2] == 0,
                "straight: accesses": got["straight"][0] > 0,
                "straight: none in a loop": got["straight"][1] == 0,
                "none: no access": got["none"] == (0, 0, 0),
            }
            for what, ok in checks.items():
                print(f"ok   {cxx} {level} {what}" if ok else
                      f"FAIL {cxx} {level} {what}  (total, in loops, innermost: {got})")
                if not ok:
                    failures.append(f"{cxx} {level}: {what}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
