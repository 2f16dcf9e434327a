// Runs a kc2cpp-generated model on the inputs shipped beside it and prints each output next
// to the output Keras itself computed for the same input.
//   quickstart <inputs.npy> <keras_outputs.npy>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "model.h"  // generated: kc2cpp model.h5 -o model.cpp --header model.h --name model

// Minimal reader for the float32 C-order .npy files numpy writes (example code, not the tool's).
static std::vector<float> read_npy(const char* path, long& rows) {
  std::ifstream f(path, std::ios::binary);
  char magic[8];
  f.read(magic, 8);
  if (!f || std::string(magic + 1, 5) != "NUMPY") throw std::runtime_error(std::string(path) + ": not a .npy file");
  unsigned char len[4] = {0, 0, 0, 0};
  f.read(reinterpret_cast<char*>(len), magic[6] == 1 ? 2 : 4);
  const size_t header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<size_t>(len[3]) << 24);
  std::string header(header_len, ' ');
  f.read(&header[0], static_cast<std::streamsize>(header_len));
  if (header.find("'<f4'") == std::string::npos) throw std::runtime_error(std::string(path) + ": not float32");
  rows = std::stol(header.substr(header.find('(') + 1));
  std::vector<float> data;
  float v;
  while (f.read(reinterpret_cast<char*>(&v), sizeof v)) data.push_back(v);
  return data;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s inputs.npy keras_outputs.npy\n", argv[0]);
    return 2;
  }
  try {
    long n = 0, n_keras = 0;
    const std::vector<float> x = read_npy(argv[1], n);
    const std::vector<float> want = read_npy(argv[2], n_keras);
    static model::Workspace ws;  // plain data: static storage, no heap
    std::vector<float> y(static_cast<size_t>(n) * model::kOutput0Size);
    model::predict_batch(x.data(), y.data(), n, ws);
    std::printf("kc2cpp model, ISA path: %s; %ld samples\n", model::isa(), n);
    double worst = 0;
    for (long s = 0; s < n; ++s) {
      std::printf("sample %ld\n  kc2cpp:", s);
      for (int j = 0; j < model::kOutput0Size; ++j) std::printf(" %12.8f", y[s * model::kOutput0Size + j]);
      std::printf("\n  keras: ");
      for (int j = 0; j < model::kOutput0Size; ++j) {
        const float k = want[s * model::kOutput0Size + j];
        std::printf(" %12.8f", k);
        worst = std::fmax(worst, std::fabs(static_cast<double>(k) - y[s * model::kOutput0Size + j]));
      }
      std::printf("\n");
    }
    std::printf("largest difference from Keras: %.3g\n", worst);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
