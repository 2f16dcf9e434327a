// Classifies 2-D points with the model compiled from model.h5 by add_keras_model().
//   classify X Y [X Y ...]                      class and probabilities of each point
//   classify --check points.npy keras_probs.npy  all shipped points beside Keras's own outputs;
//                                                exits 1 if a class differs or a probability
//                                                differs from Keras by more than 1e-5
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ring_model.h"  // generated at build time from model.h5

namespace {

constexpr const char* kClassNames[] = {"core", "ring", "outside"};
static_assert(ring_model::kInput0Size == 2, "the model takes a point (x, y)");
static_assert(ring_model::kOutput0Size == 3, "the model scores three classes");
constexpr double kKerasBound = 1e-5;

int argmax(const float* p) {
  int best = 0;
  for (int j = 1; j < ring_model::kOutput0Size; ++j)
    if (p[j] > p[best]) best = j;
  return best;
}

void print_point(const float* x, const float* p) {
  std::printf("(%6.3f, %6.3f) -> %-7s  core %.4f  ring %.4f  outside %.4f\n", x[0], x[1], kClassNames[argmax(p)],
              p[0], p[1], p[2]);
}

// Minimal reader for the float32 C-order .npy files numpy writes (example code, not part of kc2cpp).
std::vector<float> read_npy(const char* path, long& rows) {
  std::ifstream f(path, std::ios::binary);
  char magic[10];
  if (!f.read(magic, 10) || std::string(magic + 1, 5) != "NUMPY") throw std::runtime_error(std::string(path) + ": not a .npy file");
  size_t header_len = static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8);
  if (magic[6] != 1) {  // versions 2 and 3 have a 4-byte length
    unsigned char more[2];
    f.read(reinterpret_cast<char*>(more), 2);
    header_len |= (static_cast<size_t>(more[0]) << 16) | (static_cast<size_t>(more[1]) << 24);
  }
  std::string header(header_len, ' ');
  f.read(&header[0], static_cast<std::streamsize>(header_len));
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(std::string(path) + ": not a C-order float32 array");
  rows = std::stol(header.substr(header.find('(') + 1));
  std::vector<float> data;
  float v;
  while (f.read(reinterpret_cast<char*>(&v), sizeof v)) data.push_back(v);
  return data;
}

int check(const char* points_path, const char* probs_path) {
  long n = 0, n_keras = 0;
  const std::vector<float> x = read_npy(points_path, n);
  const std::vector<float> want = read_npy(probs_path, n_keras);
  if (n != n_keras || x.size() != static_cast<size_t>(n) * ring_model::kInput0Size ||
      want.size() != static_cast<size_t>(n) * ring_model::kOutput0Size)
    throw std::runtime_error("points and probabilities do not match the model's shapes");
  static ring_model::Workspace ws;  // plain data: static storage, no heap
  std::vector<float> y(want.size());
  ring_model::predict_batch(x.data(), y.data(), n, ws);

  std::printf("kc2cpp ring_model (ISA path %s), %ld points\n", ring_model::isa(), n);
  double worst = 0;
  int class_mismatches = 0;
  for (long s = 0; s < n; ++s) {
    const float* p = &y[s * ring_model::kOutput0Size];
    const float* k = &want[s * ring_model::kOutput0Size];
    print_point(&x[s * ring_model::kInput0Size], p);
    for (int j = 0; j < ring_model::kOutput0Size; ++j)
      worst = std::fmax(worst, std::fabs(static_cast<double>(p[j]) - k[j]));
    if (argmax(p) != argmax(k)) ++class_mismatches;
  }
  std::printf("largest difference from Keras: %.3g (bound %.0e); classes differing: %d\n", worst, kKerasBound,
              class_mismatches);
  return worst <= kKerasBound && class_mismatches == 0 ? 0 : 1;
}

int classify(int argc, char** argv) {
  if (argc % 2 != 1) {
    std::fprintf(stderr, "give points as pairs of numbers: X Y [X Y ...]\n");
    return 2;
  }
  static ring_model::Workspace ws;
  for (int i = 1; i + 1 < argc; i += 2) {
    const float x[2] = {std::strtof(argv[i], nullptr), std::strtof(argv[i + 1], nullptr)};
    float p[ring_model::kOutput0Size];
    ring_model::predict(x, p, ws);
    print_point(x, p);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s X Y [X Y ...]\n       %s --check points.npy keras_probs.npy\n", argv[0], argv[0]);
    return 2;
  }
  try {
    if (std::string(argv[1]) == "--check") {
      if (argc != 4) throw std::runtime_error("--check needs points.npy and keras_probs.npy");
      return check(argv[2], argv[3]);
    }
    return classify(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
