// Runs every op of the variants linked in (KC_DUMP_VARIANTS, e.g. "X(neon_O3) X(a64_scalar_O3)")
// over rt_inputs.h and writes the results to the file named by argv[1], for comparison on the host
// (runtime_bitexact_test.cpp, test RuntimeBitExactCross). Format (little endian, see dump_format.h).
#include <cstdio>
#include <vector>

#include "dump_format.h"
#include "rt_inputs.h"
#include "variant_api.h"

#define X(name) extern "C" const KcVariant* kc_variant_##name();
KC_DUMP_VARIANTS
#undef X

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FILE\n", argv[0]);
    return 2;
  }
  const KcVariant* variants[] = {
#define X(name) kc_variant_##name(),
      KC_DUMP_VARIANTS
#undef X
  };
  const kc_rt_test::Inputs in = kc_rt_test::make_inputs();
  std::vector<kc_rt_test::VariantDump> dumps;
  for (const KcVariant* v : variants) dumps.push_back(kc_rt_test::run_variant(*v, in));
  if (!kc_rt_test::write_dumps(argv[1], dumps)) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
