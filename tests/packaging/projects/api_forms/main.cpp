// The three libraries come from the same model (the last from its architecture JSON and weights
// file): their outputs must be identical, and predict_batch must give the same bits as predict.
#include <cstdio>
#include <cstring>

#include "dense-net.h"
#include "models/other_net.h"
#include "pair_net.h"

int main() {
  static_assert(dense_net::kInput0Size == other::kInput0Size, "same model");
  static_assert(dense_net::kOutput0Size == other::kOutput0Size, "same model");
  static_assert(dense_net::kInput0Size == pair_net::kInput0Size, "same model");
  static_assert(dense_net::kOutput0Size == pair_net::kOutput0Size, "same model");
  constexpr int kN = 4;
  float x[kN * dense_net::kInput0Size];
  for (int i = 0; i < kN * dense_net::kInput0Size; ++i) x[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;

  static dense_net::Workspace ws_a;
  static other::Workspace ws_b;
  static pair_net::Workspace ws_c;
  float a[kN * dense_net::kOutput0Size], b[kN * dense_net::kOutput0Size], c[kN * dense_net::kOutput0Size];
  dense_net::predict_batch(x, a, kN, ws_a);
  for (int s = 0; s < kN; ++s)
    other::predict(&x[s * other::kInput0Size], &b[s * other::kOutput0Size], ws_b);
  pair_net::predict_batch(x, c, kN, ws_c);
  if (std::memcmp(a, b, sizeof a) != 0 || std::memcmp(a, c, sizeof a) != 0) {
    std::fprintf(stderr, "api_forms: the three libraries disagree\n");
    return 1;
  }
  std::printf("api_forms: three libraries from one model (two files and JSON + weights) agree (ISA %s)\n",
              dense_net::isa());
  return 0;
}
