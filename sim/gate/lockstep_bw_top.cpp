// Lockstep check of bw_top: the RTL model (class LS_A) and its gate-level netlist model
// (LS_B), built by sim/gate/gate.sh, run one layer program side by side. The memories are
// those of sim/bw_rtl.cpp (every read lane answered at the end of the cycle in which it
// presents its registered address, the drained columns' writes applied at the clock edge);
// they are driven from the RTL's outputs and the same inputs go to both models, and every
// output port of both is compared after every edge once the reset is released.
//
//   lockstep_bw_top DIR LAYERS BATCH ARENA_WORDS [MAX_CYCLES]
// DIR holds desc.bin (uint32), param.bin (int32), weight.bin and arena.bin (uint64 words,
// the arena of the whole batch); the final arena is written to DIR/arena_out.bin. Prints
// "PASS: N cycles, W arena writes, rtl X cycles/s, netlist Y cycles/s" or "FAIL: ...".
#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

#include "lockstep.h"

namespace {

constexpr int ROWS = GATE_MSB_p_en + 1;
constexpr int COLS = GATE_MSB_a_en + 1;
constexpr int DR = GATE_MSB_o_pen + 1;
constexpr int MOB = (GATE_MSB_o_pdata + 1) / (64 * DR);

template <class T> std::vector<T> load(const std::string &f) {
  std::ifstream in(f, std::ios::binary | std::ios::ate);
  if (!in) {
    std::fprintf(stderr, "lockstep_bw_top: cannot read %s\n", f.c_str());
    std::exit(2);
  }
  std::vector<T> v((std::size_t)in.tellg() / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char *>(v.data()), (std::streamsize)(v.size() * sizeof(T)));
  return v;
}

template <class T> inline bool bit(const T &v, int i) { return (lockstep::word(v, i / 32) >> (i % 32)) & 1; }
template <class T> inline uint64_t get64(const T &v, int i) { return lockstep::word(v, 2 * i) | (uint64_t)lockstep::word(v, 2 * i + 1) << 32; }
template <class T> inline void set64(T &v, int i, uint64_t x) {
  lockstep::setWord(v, 2 * i, (uint32_t)x);
  lockstep::setWord(v, 2 * i + 1, (uint32_t)(x >> 32));
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: lockstep_bw_top DIR LAYERS BATCH ARENA_WORDS [MAX_CYCLES]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint32_t layers = (uint32_t)std::atoi(argv[2]), batch = (uint32_t)std::atoi(argv[3]), arenaWords = (uint32_t)std::atoi(argv[4]);
  const uint64_t maxCycles = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 10000000;
  auto desc = load<uint32_t>(dir + "/desc.bin");
  auto param = load<uint32_t>(dir + "/param.bin");
  auto weight = load<uint64_t>(dir + "/weight.bin");
  auto arena = load<uint64_t>(dir + "/arena.bin");

  auto ctx = std::make_unique<VerilatedContext>();
  auto a = std::make_unique<LS_A>(ctx.get(), "rtl");
  auto b = std::make_unique<LS_B>(ctx.get(), "netlist");
  lockstep::Pair<LS_A, LS_B> p(a.get(), b.get());
  std::string fault;
  uint64_t writes = 0;
  bool checking = false;

  auto word = [&fault](const auto &mem, const char *what, uint32_t i) -> uint64_t {
    if (i < mem.size()) return mem[i];
    if (fault.empty()) fault = std::string("read of ") + what + " word " + std::to_string(i) + " outside the memory";
    return 0;
  };
  auto store = [&](uint64_t i, uint64_t d, uint64_t m) {
    if (i >= arena.size()) {
      if (fault.empty()) fault = "write of arena word " + std::to_string(i) + " outside the arena";
      return;
    }
    arena[i] = (arena[i] & ~m) | (d & m);
    writes++;
  };
  // one clock, as sim/bw_rtl.cpp's tick(): rising edge, writes, read answers, falling edge
  auto tick = [&]() -> bool {
    a->clk = 1;
    p.copyInputs();
    p.eval();
    if (checking && !p.compare("rising edge")) return false;
    LS_A *t = a.get();
    for (int c = 0; c < DR; c++) {
      if (bit(t->o_pen, c))
        for (uint32_t l = 0; l < t->o_pbits && l < (uint32_t)MOB; l++)
          store(lockstep::word(t->o_pbase, c) + (uint64_t)l * t->o_pstride, get64(t->o_pdata, c * MOB + (int)l), t->o_pmask);
      if (bit(t->o_ien, c))
        for (int r = 0; r < ROWS; r++) {
          if (!bit(t->o_irows, r)) continue;
          const uint64_t idx = (uint64_t)lockstep::word(t->o_ibase, c) + r;
          const uint64_t v = lockstep::word(t->o_idata, c * ROWS + r);
          store(idx >> 1, idx & 1 ? v << 32 : v, idx & 1 ? 0xffffffff00000000ull : 0xffffffffull);
        }
    }
    if (t->d_en) t->d_rdata = (uint32_t)word(desc, "descriptor", t->d_addr);
    for (int l = 0; l < ROWS; l++) {
      if (bit(t->p_en, l)) lockstep::setWord(t->p_rdata, l, (uint32_t)word(param, "parameter", lockstep::word(t->p_addr, l)));
      if (bit(t->w_en, l)) set64(t->w_rdata, l, word(weight, "weight", lockstep::word(t->w_addr, l)));
    }
    for (int c = 0; c < COLS; c++)
      if (bit(t->a_en, c)) set64(t->a_rdata, c, word(arena, "arena", lockstep::word(t->a_addr, c)));
    a->clk = 0;
    p.copyInputs();
    p.eval();
    if (checking && !p.compare("clock low")) return false;
    p.cycle++;
    return true;
  };

  a->n_layers = layers;
  a->batch = batch;
  a->arena_words = arenaWords;
  a->arena_base = 0;
  a->start = 0;
  a->rst = 1;
  bool ok = true;
  for (int i = 0; ok && i < 2 * (ROWS + COLS) + 16; i++) ok = tick();
  a->rst = 0;
  checking = true;
  ok = ok && tick();
  a->start = 1;
  const uint64_t first = p.cycle;
  bool done = false;
  while (ok && !done && p.cycle - first < maxCycles && fault.empty()) {
    ok = tick();
    a->start = 0;
    done = a->done && !a->busy;
  }
  a->final();
  b->final();
  const uint64_t cycles = p.cycle - first;
  {
    std::ofstream out(dir + "/arena_out.bin", std::ios::binary);
    out.write(reinterpret_cast<const char *>(arena.data()), (std::streamsize)(arena.size() * sizeof(uint64_t)));
  }
  if (!p.diff.empty()) {
    std::printf("FAIL: %s\n", p.diff.c_str());
    return 1;
  }
  if (!fault.empty() || !done || a->err) {
    std::printf("FAIL: %s\n", !fault.empty() ? fault.c_str() : !done ? "the program did not finish" : ("error bits " + std::to_string(a->err)).c_str());
    return 1;
  }
  std::printf("PASS: %llu cycles, %llu arena writes, %llu comparisons, rtl %.0f cycles/s, netlist %.0f cycles/s\n", (unsigned long long)cycles,
              (unsigned long long)writes, (unsigned long long)p.checks, p.cycle / (p.ta > 0 ? p.ta : 1e-9), p.cycle / (p.tb > 0 ? p.tb : 1e-9));
  return 0;
}
