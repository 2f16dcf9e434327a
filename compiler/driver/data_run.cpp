// kc2cpp eval and kc2cpp check: a model over data files, a chunk of rows at a time.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "data/data.h"
#include "driver/driver.h"
#include "driver/native.h"
#include "driver/output.h"
#include "driver/stages.h"
#include "error.h"
#include "eval/eval.h"

namespace kc2cpp::driver {
namespace {

// Input values per chunk over all inputs (4 MiB of float32): the data is read, converted and
// evaluated this many values at a time, so a big file is never in memory whole.
constexpr int64_t kChunkValues = int64_t{1} << 20;

std::string shape_with(int64_t n, const ir::Shape& s) {
  std::vector<int64_t> full = {n};
  full.insert(full.end(), s.begin(), s.end());
  return data::shape_string(full);
}

// Keras's rule (Functional._adjust_input_rank in Keras 3, _conform_to_reference_input in tf.keras 2):
// the same shape; or one trailing axis of 1 added to the data, or dropped from it. Returns the note
// for the two accepted changes, "" for an exact fit; throws Error naming both shapes otherwise.
std::string fit_input(const data::Source& src, const ir::Shape& want, size_t k, const std::string& model) {
  const std::vector<int64_t> have(src.shape().begin() + 1, src.shape().end());
  const int64_t n = src.rows();
  if (have == want) return "";
  const std::string as = src.name() + ": " + data::shape_string(src.shape()) + " read as " + shape_with(n, want) +
                         " for the model's input " + std::to_string(k) + " " + data::shape_string(want) + ", as Keras does";
  if (have.size() + 1 == want.size() && want.back() == 1 && std::equal(have.begin(), have.end(), want.begin()))
    return as + " (a trailing channel axis of 1 added)";
  if (have.size() == want.size() + 1 && have.back() == 1 && std::equal(want.begin(), want.end(), have.begin()))
    return as + " (its trailing axis of 1 dropped)";
  std::string advice;
  if (ir::num_elements(have) == ir::num_elements(want))
    advice = "reshape the data: " + data::shape_string(src.shape()) + " -> " + shape_with(n, want);
  else
    advice = "the model takes " + std::to_string(ir::num_elements(want)) + " values per sample, the data holds " +
             std::to_string(ir::num_elements(have)) + ": pass the data the model was trained on";
  throw Error(src.name() + ": samples of shape " + data::shape_string(have) + " do not fit input " + std::to_string(k) +
              " of " + model + ", which takes " + data::shape_string(want) + "; " + advice);
}

// [start, end) of a source of `rows` rows; throws Error naming the source.
void check_range(const data::Source& src, int64_t start, int64_t end) {
  if (start < 0 || start >= end || end > src.rows())
    throw Error(src.name() + ": has " + std::to_string(src.rows()) + " samples; --start " + std::to_string(start) +
                " --end " + std::to_string(end) + " must satisfy 0 <= start < end <= " + std::to_string(src.rows()));
}

// The model's inputs from data files: opened and checked against the model, then read in chunks.
class Samples {
 public:
  // `max_memory`: the limit of the processes reading HDF5 data files (--max-memory), also for Reference.
  Samples(const ir::Graph& g, const std::string& model, const DataOptions& opt, uint64_t max_memory)
      : transform_(data::parse_transform(opt.scale, opt.offset)), max_memory_(max_memory) {
    if (opt.inputs.size() != g.inputs.size())
      throw UsageError(model + ": the model has " + std::to_string(g.inputs.size()) + " input(s); pass one --input for each (" +
                       std::to_string(opt.inputs.size()) + " given)");
    int64_t per_row = 0;
    for (size_t k = 0; k < opt.inputs.size(); ++k) {
      sources_.push_back(data::Source::open(opt.inputs[k], max_memory));
      const data::Source& src = *sources_.back();
      const std::string note = fit_input(src, g.tensors[g.inputs[k]].shape, k, model);
      if (!note.empty()) std::fprintf(stderr, "kc2cpp: note: %s\n", note.c_str());
      if (src.rows() != sources_[0]->rows())
        throw Error(src.name() + ": has " + std::to_string(src.rows()) + " samples but " + sources_[0]->name() + " has " +
                    std::to_string(sources_[0]->rows()) + "; every input needs one row per sample");
      per_row += src.row_size();
    }
    start_ = opt.start;
    end_ = opt.end < 0 ? sources_[0]->rows() : opt.end;
    check_range(*sources_[0], start_, end_);
    chunk_rows_ = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(1, per_row));
    next_ = start_;
  }

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t count() const { return end_ - start_; }
  int64_t total_rows() const { return sources_[0]->rows(); }
  uint64_t max_memory() const { return max_memory_; }
  std::string describe() const {
    std::string s;
    for (const auto& src : sources_) s += (s.empty() ? "" : ", ") + src->name();
    if (start_ != 0 || end_ != total_rows()) s += "[" + std::to_string(start_) + ":" + std::to_string(end_) + "]";
    return s;
  }

  // The next chunk: rows [first, first + n) of every input into xs; false when all were read.
  bool next(std::vector<std::vector<float>>& xs, int64_t& first, int64_t& n) {
    if (next_ >= end_) return false;
    first = next_;
    n = std::min(chunk_rows_, end_ - next_);
    xs.resize(sources_.size());
    for (size_t k = 0; k < sources_.size(); ++k) {
      xs[k].resize(static_cast<size_t>(n * sources_[k]->row_size()));
      sources_[k]->read(first, first + n, transform_, xs[k].data());
    }
    next_ += n;
    return true;
  }

 private:
  std::vector<std::unique_ptr<data::Source>> sources_;
  data::Transform transform_;
  int64_t start_ = 0, end_ = 0, next_ = 0, chunk_rows_ = 1;
  uint64_t max_memory_ = 0;
};

std::vector<std::string> files_read(const std::string& model, const std::string& weights,
                                    const std::vector<std::string>& data_args) {
  std::vector<std::string> read = {model};
  if (!weights.empty()) read.push_back(weights);
  for (const std::string& a : data_args) read.push_back(data::parse_data_path(a).file);
  return read;
}

// ---- check ----------------------------------------------------------------------------------------

// The class a model output (or one-hot label) row names: argmax (first of equal maxima, as numpy),
// or for a single value, whether it exceeds 0.5 (a sigmoid's decision).
int64_t predicted_class(const float* y, int64_t n) {
  if (n == 1) return y[0] > 0.5f ? 1 : 0;
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (y[i] > y[best]) best = i;
  return best;
}

// A label value as a class id; -1 (no class) for NaN, infinities and values beyond any class count.
int64_t class_id(float v) { return std::isfinite(v) && std::fabs(v) < 1e9f ? static_cast<int64_t>(v) : -1; }

// max|ours - keras| of one sample in float32 epsilons of max|keras| (README "Agreement with Keras").
// NaN against NaN agrees; NaN against a number, or any error where Keras is all zero, is infinite.
double error_epsilons(const float* ours, const float* keras, int64_t n) {
  double scale = 0, err = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(ours[i]) || std::isnan(keras[i])) {
      if (std::isnan(ours[i]) != std::isnan(keras[i])) return INFINITY;
      continue;
    }
    if (std::isinf(keras[i]) || std::isinf(ours[i])) {
      if (ours[i] != keras[i]) return INFINITY;
      continue;
    }
    scale = std::max(scale, std::fabs(double(keras[i])));
    err = std::max(err, std::fabs(double(ours[i]) - double(keras[i])));
  }
  if (err == 0) return 0;
  return scale == 0 ? INFINITY : err / (std::ldexp(1.0, -23) * scale);
}

// The same float32 bits, any NaN equal to any NaN.
bool same_bits(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  return true;
}

// A reference array (labels or Keras outputs) read alongside the samples: it holds either every row
// of the data (then sliced alike) or exactly the selected rows.
class Reference {
 public:
  // `row_size` < 0: any row size.
  Reference(const std::string& arg, const Samples& s, int64_t row_size, const std::string& role)
      : src_(data::Source::open(arg, s.max_memory())) {
    if (src_->rows() == s.total_rows()) base_ = 0;
    else if (src_->rows() == s.count()) base_ = s.start();
    else
      throw Error(src_->name() + ": has " + std::to_string(src_->rows()) + " rows; as " + role +
                  " it needs one per sample: " + std::to_string(s.total_rows()) + " (all of the data) or " +
                  std::to_string(s.count()) + " (the selected rows)");
    if (row_size >= 0 && src_->row_size() != row_size)
      throw Error(src_->name() + ": rows of " + std::to_string(src_->row_size()) + " values (shape " +
                  data::shape_string(src_->shape()) + ") do not match the model's output, " + std::to_string(row_size) +
                  " values per sample");
  }
  const data::Source& source() const { return *src_; }
  // Data rows [first, first + n), unconverted but for the rounding to float32.
  std::vector<float> rows(int64_t first, int64_t n) const {
    std::vector<float> v(static_cast<size_t>(n * src_->row_size()));
    src_->read(first - base_, first - base_ + n, {}, v.data());
    return v;
  }

 private:
  std::unique_ptr<data::Source> src_;
  int64_t base_ = 0;
};

// One-line progress on stderr ("\r" redrawn), only while running on a terminal.
class Progress {
 public:
  Progress(bool on, int64_t total) : on_(on), total_(total) {}
  ~Progress() {
    if (on_ && drawn_) std::fputs("\r\033[K", stderr);
  }
  void update(int64_t done) {
    if (!on_) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(kWidth * done / std::max<int64_t>(1, total_));
    std::fprintf(stderr, "\r[%s%s] %lld/%lld samples", std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_));
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool on_, drawn_ = false;
  int64_t total_;
};

std::string percent(int64_t part, int64_t whole) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f%% (%lld/%lld)", 100.0 * double(part) / double(whole), static_cast<long long>(part),
                static_cast<long long>(whole));
  return buf;
}

// eval's outputs by file: datasets of one HDF5 file together (model outputs k, in order); a .npy
// file, or a file given both with and without a dataset, alone (check_outputs then refuses the repeat).
struct OutputGroup {
  std::string file;
  std::vector<size_t> outputs;
};
std::vector<OutputGroup> group_outputs(const std::vector<std::string>& outputs) {
  std::vector<OutputGroup> groups;
  for (size_t k = 0; k < outputs.size(); ++k) {
    const data::DataPath path = data::parse_data_path(outputs[k]);
    OutputGroup* same = nullptr;
    for (OutputGroup& o : groups)
      if (!path.dataset.empty() && o.file == path.file && !data::parse_data_path(outputs[o.outputs[0]]).dataset.empty())
        same = &o;
    for (size_t j : same ? same->outputs : std::vector<size_t>{})
      if (data::parse_data_path(outputs[j]).dataset == path.dataset)
        throw UsageError(outputs[k] + ": given for two model outputs; pass a different dataset for each");
    if (same) same->outputs.push_back(k);
    else groups.push_back({path.file, {k}});
  }
  return groups;
}

// Rows evaluated per call while checking: small enough for a smooth progress bar.
constexpr int64_t kCheckBatch = 16;

}  // namespace

void eval_files(const EvalOptions& opt) {
  data::parse_transform(opt.data.scale, opt.data.offset);  // a usage error before the model is read
  const std::vector<OutputGroup> groups = group_outputs(opt.outputs);
  std::vector<std::string> out_files;
  for (const OutputGroup& o : groups) out_files.push_back(o.file);
  const std::vector<std::string> read = files_read(opt.model, opt.weights, opt.data.inputs);
  check_outputs(read, out_files);  // before anything is read: a bad output path fails fast
  for (const std::string& o : opt.outputs) data::check_output_path(data::parse_data_path(o));
  Stages stages(opt.verbose);
  const ir::Graph g = compile_graph(load_model_warning(opt.model, opt.weights, opt.max_memory), opt.fp);
  stages.done("load and lower " + opt.model);
  if (opt.outputs.size() != g.outputs.size())
    throw UsageError(opt.model + ": the model has " + std::to_string(g.outputs.size()) +
                     " output(s); pass one --output for each (" + std::to_string(opt.outputs.size()) + " given)");
  Samples samples(g, opt.model, opt.data, opt.max_memory);
  std::vector<std::vector<float>> ys(g.outputs.size()), xs;
  int64_t first = 0, n = 0;
  while (samples.next(xs, first, n)) {
    const auto y = eval::evaluate(g, xs, static_cast<int>(n));
    for (size_t k = 0; k < ys.size(); ++k) ys[k].insert(ys[k].end(), y[k].begin(), y[k].end());
  }
  stages.done("evaluate " + std::to_string(samples.count()) + " samples");
  std::vector<OutputFile> files;
  for (const OutputGroup& group : groups) {
    std::vector<data::OutputArray> arrays;
    for (size_t k : group.outputs) {
      std::vector<int64_t> shape = {samples.count()};
      for (int64_t d : g.tensors[g.outputs[k]].shape) shape.push_back(d);
      arrays.push_back({data::parse_data_path(opt.outputs[k]).dataset, shape, &ys[k]});
    }
    files.push_back({group.file, data::encode_file(group.file, arrays)});
    for (size_t k : group.outputs) std::vector<float>().swap(ys[k]);
  }
  write_outputs(read, files);
  stages.done("write");
}

CheckReport check(const CheckOptions& opt) {
  data::parse_transform(opt.data.scale, opt.data.offset);  // a usage error before the model is read
  Stages stages(opt.verbose);
  const ir::Graph g = compile_graph(load_model_warning(opt.model, opt.weights, opt.max_memory), opt.fp);
  stages.done("load and lower " + opt.model);
  if (!opt.keras.empty() && opt.keras.size() != g.outputs.size())
    throw UsageError(opt.model + ": the model has " + std::to_string(g.outputs.size()) +
                     " output(s); pass one --keras for each (" + std::to_string(opt.keras.size()) + " given)");
  Samples samples(g, opt.model, opt.data, opt.max_memory);
  std::vector<int64_t> out_size;
  for (int t : g.outputs) out_size.push_back(ir::num_elements(g.tensors[t].shape));
  std::unique_ptr<Reference> labels;
  if (!opt.labels.empty()) {
    labels = std::make_unique<Reference>(opt.labels, samples, -1, "labels");
    const int64_t w = labels->source().row_size();
    if (w != 1 && w != out_size[0])
      throw Error(labels->source().name() + ": labels of shape " + data::shape_string(labels->source().shape()) +
                  " are neither class ids (N,) or (N, 1) nor one-hot rows of the model's " + std::to_string(out_size[0]) +
                  " outputs");
  }
  std::vector<Reference> keras;
  for (size_t k = 0; k < opt.keras.size(); ++k) keras.emplace_back(opt.keras[k], samples, out_size[k], "Keras outputs");

  std::unique_ptr<NativeModel> native;
  if (opt.native) {
    native = std::make_unique<NativeModel>(opt.model, opt.weights, opt.fp, opt.max_memory, g);
    stages.done("build the generated code for this machine");
  }

  CheckReport r;
  r.samples = samples.count();
  if (native) r.native_differ = 0;
  if (labels) r.correct = 0;
  if (!keras.empty()) r.agree = 0;
  Progress progress(opt.progress, r.samples);
  std::vector<std::vector<float>> xs, part;
  int64_t first = 0, n = 0;
  while (samples.next(xs, first, n)) {
    std::vector<std::vector<float>> ys(g.outputs.size());
    for (int64_t b = 0; b < n; b += kCheckBatch) {  // sub-batches: the progress bar moves
      const int64_t m = std::min(kCheckBatch, n - b);
      part.resize(xs.size());
      for (size_t k = 0; k < xs.size(); ++k) {
        const size_t per = xs[k].size() / static_cast<size_t>(n);
        part[k].assign(xs[k].begin() + b * per, xs[k].begin() + (b + m) * per);
      }
      const auto y = eval::evaluate(g, part, static_cast<int>(m));
      for (size_t k = 0; k < ys.size(); ++k) ys[k].insert(ys[k].end(), y[k].begin(), y[k].end());
      progress.update(first - samples.start() + b + m);
    }
    if (native) {
      const std::vector<std::vector<float>> zs = native->run(xs, n);
      for (int64_t i = 0; i < n; ++i) {
        bool same = true;
        for (size_t k = 0; k < zs.size(); ++k)
          same = same && same_bits(&zs[k][i * out_size[k]], &ys[k][i * out_size[k]], out_size[k]);
        r.native_differ += !same;
      }
    }
    if (labels) {
      const std::vector<float> l = labels->rows(first, n);
      const int64_t w = labels->source().row_size();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t truth = w != 1 ? predicted_class(&l[i * w], w) : class_id(l[i]);
        r.correct += predicted_class(&ys[0][i * out_size[0]], out_size[0]) == truth;
      }
    }
    for (size_t k = 0; k < keras.size(); ++k) {
      const std::vector<float> want = keras[k].rows(first, n);
      const int64_t w = out_size[k];
      for (int64_t i = 0; i < n; ++i) {
        if (k == 0) r.agree += predicted_class(&ys[0][i * w], w) == predicted_class(&want[i * w], w);
        const double e = error_epsilons(&ys[k][i * w], &want[i * w], w);
        if (e > r.max_epsilons || (std::isinf(e) && r.worst_sample < 0)) r.max_epsilons = e, r.worst_sample = first + i;
      }
    }
  }
  stages.done("evaluate " + std::to_string(r.samples) + " samples");

  r.summary = opt.model + " on " + samples.describe() + ": " + std::to_string(r.samples) + " samples";
  if (labels) r.summary += "; accuracy " + percent(r.correct, r.samples);
  if (!keras.empty()) {
    char err[160];
    std::snprintf(err, sizeof err, "; max error %.1f epsilons (bound %g)", r.max_epsilons, kKerasBoundEpsilons);
    r.summary += "; top-1 agreement with Keras " + percent(r.agree, r.samples) + err;
    if (!r.within_bound()) r.summary += " at sample " + std::to_string(r.worst_sample) + ": BEYOND THE BOUND";
  }
  if (native) {
    r.native = native->description();
    r.summary += "; generated code (" + r.native + ") " +
                 (r.native_differ == 0 ? "bit-identical to the evaluator"
                                       : "DIFFERS from the evaluator on " + std::to_string(r.native_differ) + " samples");
  }
  return r;
}

}  // namespace kc2cpp::driver
