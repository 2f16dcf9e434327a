#include "eval/eval.h"

#include "error.h"
#include "eval/ops.h"

namespace kc2cpp::eval {
namespace {

// Op::slices (TimeDistributed): the op on each slice alone, the slices' outputs concatenated.
void run_sliced(const ir::Graph& g, const ir::Op& op, std::vector<std::vector<float>>& buf) {
  const size_t n = static_cast<size_t>(op.slices);
  std::vector<std::vector<float>> in(op.inputs.size()), out(op.outputs.size());
  for (int t : op.outputs) buf[t].clear();
  for (size_t s = 0; s < n; ++s) {
    OpContext c{g, op, {}, {}};
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const std::vector<float>& x = buf[op.inputs[k]];
      const size_t per = x.size() / n;
      const auto first = x.begin() + static_cast<std::ptrdiff_t>(s * per);
      in[k].assign(first, first + static_cast<std::ptrdiff_t>(per));
      c.in.push_back(&in[k]);
    }
    for (auto& o : out) c.out.push_back(&o);
    std::visit([&](const auto& a) { run(a, c); }, op.attrs);
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      std::vector<float>& y = buf[op.outputs[k]];
      y.insert(y.end(), out[k].begin(), out[k].end());
    }
  }
}

}  // namespace

std::vector<std::vector<float>> evaluate(const ir::Graph& g, const std::vector<std::vector<float>>& inputs,
                                         int batch) {
  if (inputs.size() != g.inputs.size()) throw Error("evaluate: wrong number of inputs");
  std::vector<std::vector<float>> out(g.outputs.size());
  for (int b = 0; b < batch; ++b) {
    std::vector<std::vector<float>> buf(g.tensors.size());  // per tensor, one sample
    for (size_t k = 0; k < g.inputs.size(); ++k) {
      const size_t n = static_cast<size_t>(ir::num_elements(g.tensors[g.inputs[k]].shape));
      if (inputs[k].size() != n * static_cast<size_t>(batch))
        throw Error("input " + std::to_string(k) + " holds " + std::to_string(inputs[k].size()) +
                    " values; expected " + std::to_string(batch) + " samples of " + std::to_string(n));
      buf[g.inputs[k]].assign(inputs[k].begin() + b * n, inputs[k].begin() + (b + 1) * n);
    }
    for (const ir::Op& op : g.ops) {
      if (op.slices > 1) {
        run_sliced(g, op, buf);
        continue;
      }
      OpContext c{g, op, {}, {}};
      for (int t : op.inputs) c.in.push_back(&buf[t]);
      for (int t : op.outputs) c.out.push_back(&buf[t]);
      std::visit([&](const auto& a) { run(a, c); }, op.attrs);
    }
    for (size_t k = 0; k < g.outputs.size(); ++k)
      out[k].insert(out[k].end(), buf[g.outputs[k]].begin(), buf[g.outputs[k]].end());
  }
  return out;
}

}  // namespace kc2cpp::eval
