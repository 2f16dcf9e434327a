// A game-style frame loop: thousands of agents, each with its own recurrent State of the policy
// compiled from model.h5 by add_keras_model(), stepped once per frame.
//
//   game [--agents N] [--frames N] [--seed N]
//       1. checks step() against predict() over whole sequences for a few agents (same bits);
//       2. runs the simulation, timing every frame (steady_clock), counting heap allocations;
//       3. runs it again from scratch, thinking for the agents in reverse order with another
//          Workspace, and compares a hash of every frame with the first run;
//       4. plays the same world with random moves and with the all-seeing teacher, for scale.
//       Exits 1 when a check fails (never because of a timing).
//   game --check-keras sequences.npy keras_policy.npy
//       the shipped observation sequences through predict() and step(), beside Keras's outputs.
//
// The world is integer arithmetic and the policy's outputs are the same bits on every ISA path,
// so the printed simulation hash is the same on every machine and compiler.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "game_policy.h"  // generated at build time from model.h5

namespace gp = game_policy;

// Heap allocations so far, counted by alloc_counter.cpp's operator new (to show that the frame
// loop makes none).
unsigned long heap_allocations();

namespace {

static_assert(gp::kStepInputSize == 5, "observation: dx, dy, visible, last move x, last move y");
static_assert(gp::kStepOutputSize == 4, "policy: probabilities of the moves +x, -x, +y, -y");

// ---- The world: integer rules, the same as make_model.py's ------------------------------------
constexpr int32_t kArena = 1024, kHalf = 512, kSpeed = 8, kCatch = 12, kDrift = 3;
constexpr int32_t kSpawnMin = 64, kSpawnMax = 256;
constexpr int32_t kEscapeFrames = 128;  // a target not caught within this many frames gets away
constexpr int32_t kMoves[4][2] = {{kSpeed, 0}, {-kSpeed, 0}, {0, kSpeed}, {0, -kSpeed}};

int32_t wrap_offset(int32_t d) { return ((d + kHalf) % kArena + kArena) % kArena - kHalf; }
int32_t wrap_position(int32_t p) { return (p % kArena + kArena) % kArena; }

// Deterministic random numbers: splitmix64's finaliser over (seed, agent, counter, purpose).
uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
enum Purpose : uint64_t { kPlace, kSpawn, kDriftDraw, kVisible, kRandomMove };
uint64_t draw(uint64_t seed, uint64_t agent, uint64_t counter, Purpose what) {
  return mix(mix(mix(seed) ^ agent) ^ (counter * 8 + what));
}

struct Agent {
  int32_t ax, ay;        // agent position
  int32_t tx, ty;        // its target's position
  int32_t vx, vy;        // the target's drift
  int32_t mx, my;        // the agent's last move, in units of kSpeed
  int32_t since_spawn;   // frames since the target appeared
  uint32_t spawns;       // targets so far (a counter for the random draws)
  uint32_t catches, escapes;
};

void spawn_target(Agent& a, uint64_t seed, uint64_t id) {
  for (uint64_t k = 0;; ++k) {  // uniform on [-256, 256]^2 outside the square of radius 64
    const uint64_t h = draw(seed, id, uint64_t{a.spawns} * 64 + k, kSpawn);
    const int32_t dx = static_cast<int32_t>(h % 513) - kSpawnMax;
    const int32_t dy = static_cast<int32_t>((h >> 32) % 513) - kSpawnMax;
    if (std::max(std::abs(dx), std::abs(dy)) < kSpawnMin) continue;
    a.tx = wrap_position(a.ax + dx);
    a.ty = wrap_position(a.ay + dy);
    break;
  }
  const uint64_t v = draw(seed, id, a.spawns, kDriftDraw);
  a.vx = static_cast<int32_t>(v % 7) - kDrift;
  a.vy = static_cast<int32_t>((v >> 32) % 7) - kDrift;
  a.mx = a.my = 0;
  a.since_spawn = 0;
  ++a.spawns;
}

Agent new_agent(uint64_t seed, uint64_t id) {
  Agent a{};
  const uint64_t h = draw(seed, id, 0, kPlace);
  a.ax = static_cast<int32_t>(h % kArena);
  a.ay = static_cast<int32_t>((h >> 32) % kArena);
  spawn_target(a, seed, id);
  return a;
}

// What the agent sees this frame (make_model.py's observation).
void observe(const Agent& a, uint64_t seed, uint64_t id, uint64_t frame, float* obs) {
  const bool visible = a.since_spawn == 0 || (draw(seed, id, frame, kVisible) & 3) == 0;
  obs[0] = visible ? static_cast<float>(wrap_offset(a.tx - a.ax)) / kHalf : 0.0f;  // exact: |d| <= 512
  obs[1] = visible ? static_cast<float>(wrap_offset(a.ty - a.ay)) / kHalf : 0.0f;
  obs[2] = visible ? 1.0f : 0.0f;
  obs[3] = static_cast<float>(a.mx);
  obs[4] = static_cast<float>(a.my);
}

int argmax4(const float* p) {
  int best = 0;
  for (int j = 1; j < 4; ++j)
    if (p[j] > p[best]) best = j;
  return best;
}

// The all-seeing teacher make_model.py trained the policy to imitate.
int teacher_move(const Agent& a) {
  const int32_t dx = wrap_offset(a.tx - a.ax), dy = wrap_offset(a.ty - a.ay);
  if (std::abs(dx) >= std::abs(dy)) return dx > 0 ? 0 : 1;
  return dy > 0 ? 2 : 3;
}

enum class Outcome { kNone, kCaught, kEscaped };

// Moves the agent and its target one frame; a caught or escaped target is replaced by a new one.
Outcome advance(Agent& a, int move, uint64_t seed, uint64_t id) {
  a.ax = wrap_position(a.ax + kMoves[move][0]);
  a.ay = wrap_position(a.ay + kMoves[move][1]);
  a.mx = kMoves[move][0] / kSpeed;
  a.my = kMoves[move][1] / kSpeed;
  a.tx = wrap_position(a.tx + a.vx);
  a.ty = wrap_position(a.ty + a.vy);
  ++a.since_spawn;
  Outcome out = Outcome::kNone;
  if (std::abs(wrap_offset(a.tx - a.ax)) <= kCatch && std::abs(wrap_offset(a.ty - a.ay)) <= kCatch) {
    ++a.catches;
    out = Outcome::kCaught;
  } else if (a.since_spawn >= kEscapeFrames) {
    ++a.escapes;
    out = Outcome::kEscaped;
  }
  if (out != Outcome::kNone) spawn_target(a, seed, id);
  return out;
}

// ---- Hashing: FNV-1a (64-bit) over 32-bit words -----------------------------------------------
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;
uint64_t fnv_words(uint64_t h, const void* data, std::size_t words) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < words; ++i) {
    uint32_t w;
    std::memcpy(&w, p + 4 * i, 4);
    h = (h ^ w) * kFnvPrime;
  }
  return h;
}

// ---- The simulation -----------------------------------------------------------------------------
struct Options {
  int agents = 4096;
  int frames = 300;
  uint64_t seed = 1;
};

struct Run {
  std::vector<Agent> agents;
  std::vector<gp::State> states;   // one recurrent State per agent, allocated once
  std::vector<float> obs, probs;   // this frame's observations and move probabilities, per agent
  std::vector<uint64_t> frame_hash;
  std::vector<double> think_ns, world_ns;
  uint64_t state_hash = 0;
  unsigned long allocations = 0;   // heap allocations made inside the frame loop
  float worst_sum_error = 0.0f;    // |sum of an output's probabilities - 1|, largest seen
  bool finite = true;
  long resets = 0;
};

enum class Policy { kModel, kRandom, kTeacher };

// Everything is allocated here, before the frame loop.
void init_run(Run& r, const Options& o) {
  r.agents.resize(o.agents);
  r.states.resize(o.agents);
  r.obs.assign(static_cast<std::size_t>(o.agents) * gp::kStepInputSize, 0.0f);
  r.probs.assign(static_cast<std::size_t>(o.agents) * gp::kStepOutputSize, 0.0f);
  r.frame_hash.assign(o.frames, 0);
  r.think_ns.assign(o.frames, 0.0);
  r.world_ns.assign(o.frames, 0.0);
  for (int i = 0; i < o.agents; ++i) {
    r.agents[i] = new_agent(o.seed, i);
    gp::reset(r.states[i]);
  }
}

// One agent's think: observe, step its State, keep the move probabilities.
inline void think(Run& r, int i, uint64_t frame, const Options& o, gp::Workspace& ws) {
  float* obs = &r.obs[static_cast<std::size_t>(i) * gp::kStepInputSize];
  float* probs = &r.probs[static_cast<std::size_t>(i) * gp::kStepOutputSize];
  observe(r.agents[i], o.seed, i, frame, obs);
  gp::step(obs, probs, r.states[i], ws);
}

void simulate(Run& r, const Options& o, Policy policy, bool reverse_order, gp::Workspace& ws) {
  using clock = std::chrono::steady_clock;
  const int n = o.agents;
  const unsigned long allocations_before = heap_allocations();
  for (int f = 0; f < o.frames; ++f) {
    const auto t0 = clock::now();
    // AI: every agent thinks with its own State (the order must not matter).
    if (policy == Policy::kModel) {
      if (reverse_order)
        for (int i = n - 1; i >= 0; --i) think(r, i, f, o, ws);
      else
        for (int i = 0; i < n; ++i) think(r, i, f, o, ws);
    }
    const auto t1 = clock::now();
    // World: every agent acts on its output; caught and escaped targets start a new episode.
    for (int i = 0; i < n; ++i) {
      Agent& a = r.agents[i];
      int move;
      if (policy == Policy::kModel)
        move = argmax4(&r.probs[static_cast<std::size_t>(i) * gp::kStepOutputSize]);
      else if (policy == Policy::kTeacher)
        move = teacher_move(a);
      else
        move = static_cast<int>(draw(o.seed, i, f, kRandomMove) & 3);
      if (advance(a, move, o.seed, i) != Outcome::kNone && policy == Policy::kModel) {
        gp::reset(r.states[i]);
        ++r.resets;
      }
    }
    const auto t2 = clock::now();
    r.think_ns[f] = std::chrono::duration<double, std::nano>(t1 - t0).count();
    r.world_ns[f] = std::chrono::duration<double, std::nano>(t2 - t1).count();

    // Not timed: this frame's hash (every output, every position) and the output sanity checks.
    uint64_t h = kFnvBasis;
    h = fnv_words(h, r.probs.data(), r.probs.size());
    h = fnv_words(h, r.agents.data(), r.agents.size() * (sizeof(Agent) / 4));
    r.frame_hash[f] = h;
    if (policy == Policy::kModel) {
      for (int i = 0; i < n; ++i) {
        const float* p = &r.probs[static_cast<std::size_t>(i) * gp::kStepOutputSize];
        float sum = 0.0f;
        for (int j = 0; j < gp::kStepOutputSize; ++j) {
          if (!std::isfinite(p[j]) || p[j] < 0.0f || p[j] > 1.0f) r.finite = false;
          sum += p[j];
        }
        r.worst_sum_error = std::max(r.worst_sum_error, std::fabs(sum - 1.0f));
      }
    }
  }
  r.allocations = heap_allocations() - allocations_before;
  uint64_t h = kFnvBasis;
  for (const gp::State& s : r.states) h = fnv_words(h, s.v, gp::kStateFloats);
  r.state_hash = h;
}

uint64_t run_hash(const Run& r) { return fnv_words(kFnvBasis, r.frame_hash.data(), r.frame_hash.size() * 2); }

long total(const Run& r, uint32_t Agent::*field) {
  long s = 0;
  for (const Agent& a : r.agents) s += a.*field;
  return s;
}

// step() against predict(): a few agents play kSequenceLength frames interleaved, each on its own
// State, recording what they saw; predict() over each whole recording must give every step's
// output, bit for bit (the model keeps the time axis: row t of predict() is step t's output).
bool check_step_against_predict(const Options& o, gp::Workspace& ws) {
  constexpr int T = gp::kSequenceLength;
  const int k = std::min(o.agents, 8);
  std::vector<Agent> agents(k);
  std::vector<gp::State> states(k);
  std::vector<float> seq(static_cast<std::size_t>(k) * T * gp::kStepInputSize);
  std::vector<float> stepped(static_cast<std::size_t>(k) * T * gp::kStepOutputSize);
  std::vector<float> whole(static_cast<std::size_t>(T) * gp::kStepOutputSize);
  for (int i = 0; i < k; ++i) {
    agents[i] = new_agent(o.seed, i);
    gp::reset(states[i]);
  }
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < k; ++i) {
      float* x = &seq[(static_cast<std::size_t>(i) * T + t) * gp::kStepInputSize];
      float* y = &stepped[(static_cast<std::size_t>(i) * T + t) * gp::kStepOutputSize];
      observe(agents[i], o.seed, i, t, x);
      gp::step(x, y, states[i], ws);
      advance(agents[i], argmax4(y), o.seed, i);  // no reset: one unbroken sequence per agent
    }
  int differing = 0;
  for (int i = 0; i < k; ++i) {
    gp::predict(&seq[static_cast<std::size_t>(i) * T * gp::kStepInputSize], whole.data(), ws);
    if (std::memcmp(whole.data(), &stepped[static_cast<std::size_t>(i) * T * gp::kStepOutputSize],
                    whole.size() * sizeof(float)) != 0)
      ++differing;
  }
  std::printf("step() vs predict(): %d agents x %d frames, %s\n", k, T,
              differing ? "DIFFERENT bits" : "same bits");
  return differing == 0;
}

int play(const Options& o) {
  std::printf("kc2cpp game example: %d agents, %d frames, seed %llu; policy GRU(32) ISA path %s, "
              "State %zu bytes, Workspace %zu bytes\n",
              o.agents, o.frames, static_cast<unsigned long long>(o.seed), gp::isa(), sizeof(gp::State),
              sizeof(gp::Workspace));
  bool ok = true;
  // The Workspaces are big plain structs: allocated once, not on the stack.
  std::vector<gp::Workspace> ws(2);
  ok &= check_step_against_predict(o, ws[0]);

  Run first, second, random, teacher;
  init_run(first, o);
  simulate(first, o, Policy::kModel, false, ws[0]);

  // The same game again from scratch: fresh States, the other Workspace filled with NaN, the
  // agents thinking in reverse order. Every frame must hash the same.
  init_run(second, o);
  std::fill(reinterpret_cast<float*>(&ws[1]), reinterpret_cast<float*>(&ws[1] + 1), std::nanf(""));
  simulate(second, o, Policy::kModel, true, ws[1]);
  int first_difference = -1;
  for (int f = 0; f < o.frames && first_difference < 0; ++f)
    if (first.frame_hash[f] != second.frame_hash[f]) first_difference = f;

  init_run(random, o);
  simulate(random, o, Policy::kRandom, false, ws[0]);
  init_run(teacher, o);
  simulate(teacher, o, Policy::kTeacher, false, ws[0]);

  // Timing (a figure, not a check): mean over the frames after the first 10% (warm-up).
  const int skip = o.frames / 10;
  double think = 0, world = 0, fastest = 1e300;
  for (int f = skip; f < o.frames; ++f) {
    think += first.think_ns[f];
    world += first.world_ns[f];
    fastest = std::min(fastest, first.think_ns[f] + first.world_ns[f]);
  }
  const int timed = o.frames - skip;
  think /= timed;
  world /= timed;
  std::printf("per frame: %.0f ns (think %.0f ns + world %.0f ns; fastest frame %.0f ns), "
              "%.1f ns per agent-step, over %d frames\n",
              think + world, think, world, fastest, think / o.agents, timed);

  const long catches = total(first, &Agent::catches), escapes = total(first, &Agent::escapes);
  std::printf("policy:  %ld targets caught, %ld escaped, %ld State resets\n", catches, escapes, first.resets);
  std::printf("random:  %ld targets caught, %ld escaped (random moves, for scale)\n",
              total(random, &Agent::catches), total(random, &Agent::escapes));
  std::printf("teacher: %ld targets caught, %ld escaped (sees the target every frame)\n",
              total(teacher, &Agent::catches), total(teacher, &Agent::escapes));

  std::printf("heap allocations inside the frame loop: %lu\n", first.allocations + second.allocations);
  ok &= first.allocations == 0 && second.allocations == 0;
  std::printf("outputs: all finite probabilities %s, largest |sum - 1| %.3g\n", first.finite ? "yes" : "NO",
              first.worst_sum_error);
  ok &= first.finite && second.finite && first.worst_sum_error <= 1e-5f;
  if (catches < 2 * total(random, &Agent::catches)) {
    std::printf("FAIL: the policy catches fewer than twice as many targets as random moves\n");
    ok = false;
  }

  if (first_difference >= 0) {
    std::printf("FAIL: the second run differs from frame %d on\n", first_difference);
    ok = false;
  } else if (first.state_hash != second.state_hash) {
    std::printf("FAIL: the second run's final States differ\n");
    ok = false;
  } else {
    std::printf("determinism: second run (fresh States, NaN-filled Workspace, reverse order) identical "
                "in all %d frames\n", o.frames);
  }
  std::printf("simulation hash: %016llx  states hash: %016llx\n",
              static_cast<unsigned long long>(run_hash(first)), static_cast<unsigned long long>(first.state_hash));
  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

// ---- Keras's own outputs --------------------------------------------------------------------------
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

int check_keras(const char* sequences_path, const char* keras_path) {
  constexpr double kKerasBound = 1e-5;  // on a probability
  long n = 0, n_keras = 0;
  const std::vector<float> x = read_npy(sequences_path, n);
  const std::vector<float> want = read_npy(keras_path, n_keras);
  if (n != n_keras || x.size() != static_cast<size_t>(n) * gp::kInput0Size ||
      want.size() != static_cast<size_t>(n) * gp::kOutput0Size)
    throw std::runtime_error("sequences and Keras outputs do not match the model's shapes");
  std::vector<gp::Workspace> ws(1);
  std::vector<float> y(gp::kOutput0Size), ys(gp::kOutput0Size);
  gp::State state;
  double worst = 0;
  long moves_differing = 0, step_differing = 0;
  for (long s = 0; s < n; ++s) {
    gp::predict(&x[s * gp::kInput0Size], y.data(), ws[0]);
    gp::reset(state);
    for (int t = 0; t < gp::kSequenceLength; ++t)
      gp::step(&x[s * gp::kInput0Size + t * gp::kStepInputSize], &ys[t * gp::kStepOutputSize], state, ws[0]);
    if (std::memcmp(y.data(), ys.data(), y.size() * sizeof(float)) != 0) ++step_differing;
    for (int t = 0; t < gp::kSequenceLength; ++t) {
      const float* p = &y[t * gp::kStepOutputSize];
      const float* k = &want[s * gp::kOutput0Size + t * gp::kStepOutputSize];
      for (int j = 0; j < gp::kStepOutputSize; ++j) worst = std::fmax(worst, std::fabs(static_cast<double>(p[j]) - k[j]));
      if (argmax4(p) != argmax4(k)) ++moves_differing;
    }
  }
  std::printf("kc2cpp game_policy (ISA path %s): %ld sequences of %d frames beside Keras\n", gp::isa(), n,
              gp::kSequenceLength);
  std::printf("largest difference from Keras: %.3g (bound %.0e); moves differing: %ld; "
              "sequences where step() differs from predict(): %ld\n",
              worst, kKerasBound, moves_differing, step_differing);
  return worst <= kKerasBound && moves_differing == 0 && step_differing == 0 ? 0 : 1;
}

long parse(const char* flag, const char* value, long lo, long hi) {
  char* end = nullptr;
  const long v = value ? std::strtol(value, &end, 10) : 0;
  if (!value || *end || v < lo || v > hi)
    throw std::runtime_error(std::string(flag) + " needs a number in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string(argv[1]) == "--check-keras") {
      if (argc != 4) throw std::runtime_error("--check-keras needs sequences.npy and keras_policy.npy");
      return check_keras(argv[2], argv[3]);
    }
    Options o;
    for (int i = 1; i < argc; i += 2) {
      const std::string flag = argv[i];
      const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
      if (flag == "--agents")
        o.agents = static_cast<int>(parse(argv[i], value, 1, 1 << 20));
      else if (flag == "--frames")
        o.frames = static_cast<int>(parse(argv[i], value, 1, 1 << 20));
      else if (flag == "--seed")
        o.seed = static_cast<uint64_t>(parse(argv[i], value, 0, 1L << 30));
      else
        throw std::runtime_error("usage: game [--agents N] [--frames N] [--seed N]\n"
                                 "       game --check-keras sequences.npy keras_policy.npy");
    }
    return play(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
