// kc2cpp_fuzz_seeds: the seed corpora of the file and config fuzz targets, made from the Keras fixtures
// (fuzz_data's seeds are copied by scripts/fuzz.sh).
//   kc2cpp_fuzz_seeds FILE_DIR CONFIG_DIR FIXTURE_DIR...
// FILE_DIR (fuzz_file): a copy of every .h5 and .keras fixture up to 64 KiB.
// CONFIG_DIR (fuzz_config): per fixture model, its config and weight manifest as fuzz_config reads
// them, up to 64 KiB of JSON (an architecture .arch.json is loaded with its weights file).
// File names: "<fixture dir name>_<file name>", so k3 and k2 seeds do not collide.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "load/keras_model.h"

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxSeedBytes = 64 * 1024;

std::string manifest_json(const kc2cpp::load::KerasModel& m) {
  nlohmann::json weights = nlohmann::json::array();
  for (const kc2cpp::load::LayerWeights& l : m.layers)
    for (const kc2cpp::load::NamedArray& a : l.arrays) weights.push_back({l.layer, a.name, a.shape});
  nlohmann::json doc = {{"keras_version", m.keras_version}, {"model_config", m.config}, {"weights", weights}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The model of fixture file `f`, if it is one kc2cpp reads (a .keras, .h5, or .arch.json with weights).
bool load_fixture(const fs::path& f, kc2cpp::load::KerasModel& m) {
  const std::string name = f.filename().string();
  try {
    if (name.size() > 10 && name.compare(name.size() - 10, 10, ".arch.json") == 0) {
      const std::string stem = name.substr(0, name.size() - 10);
      for (const char* ext : {".weights.h5", ".h5"})
        if (fs::exists(f.parent_path() / (stem + ext))) {
          m = kc2cpp::load::load_model_in_process(f.string(), (f.parent_path() / (stem + ext)).string());
          return true;
        }
      return false;
    }
    if (f.extension() != ".h5" && f.extension() != ".keras") return false;
    if (name.size() > 11 && name.compare(name.size() - 11, 11, ".weights.h5") == 0) return false;
    m = kc2cpp::load::load_model_in_process(f.string());
    return true;
  } catch (const kc2cpp::Error&) {
    return false;  // the fixtures of files kc2cpp must refuse
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: kc2cpp_fuzz_seeds FILE_DIR CONFIG_DIR FIXTURE_DIR...\n");
    return 2;
  }
  const fs::path file_dir = argv[1], config_dir = argv[2];
  fs::create_directories(file_dir);
  fs::create_directories(config_dir);
  int files = 0, configs = 0;
  for (int i = 3; i < argc; ++i) {
    const std::string prefix = fs::path(argv[i]).filename().string() + "_";
    std::vector<fs::path> entries{fs::directory_iterator(argv[i]), fs::directory_iterator()};
    std::sort(entries.begin(), entries.end());
    for (const fs::path& f : entries) {
      const std::string name = f.filename().string();
      if ((f.extension() == ".h5" || f.extension() == ".keras") && fs::file_size(f) <= kMaxSeedBytes) {
        fs::copy_file(f, file_dir / (prefix + name), fs::copy_options::overwrite_existing);
        ++files;
      }
      kc2cpp::load::KerasModel m;
      if (!load_fixture(f, m)) continue;
      const std::string text = manifest_json(m);
      if (text.size() > kMaxSeedBytes) continue;
      write_file(config_dir / (prefix + name + ".json"), text);
      ++configs;
    }
  }
  std::printf("kc2cpp_fuzz_seeds: %d file seeds, %d config seeds\n", files, configs);
  return 0;
}
