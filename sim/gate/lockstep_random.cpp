// Random-stimulus lockstep check of an RTL model (class LS_A) against its gate-level
// netlist model (LS_B), both built by sim/gate/gate.sh (with --prefix) and compiled in with
// `-include LS_A.h -include LS_B.h -include ports.h` (sim/gate/ports.sh). Every cycle every
// input but the clock gets a random value, identical for both models; every output port is
// compared after the falling and after the rising edge.
//
//   lockstep_random [--cycles N] [--seed S] [--clock NAME] [--reset NAME=CYCLES]
//                   [--narrow NAME=BITS]... [--rare NAME=ONE_IN]... [--warmup CYCLES]
//                   [--dump FROM_CYCLE]
// --reset holds input NAME at 1 for CYCLES cycles, then random with --rare odds (default 0);
// --narrow keeps only the low BITS bits of an input (e.g. addresses into a few words, so that
// reads meet writes of the same address often); --rare makes a 1-bit input 1 once in ONE_IN;
// --dump prints every port of both models from a cycle on; --warmup starts the comparison after CYCLES cycles (state without a reset, which the RTL
// leaves to the power-up value and the netlist may keep inverted, must first be flushed).
// Prints "PASS: N cycles, C comparisons, rtl X cycles/s, netlist Y cycles/s" or the first
// difference ("FAIL: ...") and exits 1.
#include <cstdlib>
#include <map>
#include <memory>

#include "lockstep.h"

int main(int argc, char **argv) {
  uint64_t cycles = 10000, seed = 1;
  std::string clock = "clk", reset;
  uint64_t resetCycles = 0, warmup = 0, dumpFrom = ~0ull;
  std::map<std::string, int> narrow, rare;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    auto kv = [&](std::map<std::string, int> &m) { m[v.substr(0, v.find('='))] = std::atoi(v.substr(v.find('=') + 1).c_str()); };
    if (k == "--cycles") cycles = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--seed") seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--clock") clock = v;
    else if (k == "--dump") dumpFrom = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--warmup") warmup = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--reset") { reset = v.substr(0, v.find('=')); resetCycles = std::strtoull(v.substr(v.find('=') + 1).c_str(), nullptr, 10); }
    else if (k == "--narrow") kv(narrow);
    else if (k == "--rare") kv(rare);
    else { std::fprintf(stderr, "lockstep_random: unknown option %s\n", k.c_str()); return 2; }
  }
  auto ctx = std::make_unique<VerilatedContext>();
  auto a = std::make_unique<LS_A>(ctx.get(), "rtl");
  auto b = std::make_unique<LS_B>(ctx.get(), "netlist");
  lockstep::Pair<LS_A, LS_B> p(a.get(), b.get());
  lockstep::Rng rng(seed);
  for (p.cycle = 0; p.cycle < cycles; p.cycle++) {
    // inputs (the clock low)
#define LS_RAND_IN(n, msb)                                                                      \
  if (clock == #n) lockstep::set(a->n, 0);                                                                 \
  else if (reset == #n && p.cycle < resetCycles) lockstep::set(a->n, 1);                                   \
  else if (rare.count(#n)) lockstep::set(a->n, rare[#n] > 0 && rng.next() % (uint64_t)rare[#n] == 0);      \
  else lockstep::randomize(a->n, msb, rng, narrow.count(#n) ? narrow[#n] : -1);
#define LS_SKIP(n, msb)
    GATE_PORTS(LS_RAND_IN, LS_SKIP)
#undef LS_RAND_IN
#undef LS_SKIP
    p.copyInputs();
    p.eval();
    if (p.cycle >= dumpFrom) p.dump("clock low");
    if (p.cycle >= warmup && !p.compare("clock low")) break;
#define LS_CLK(n, msb) \
  if (clock == #n) lockstep::set(a->n, 1), lockstep::set(b->n, 1);
#define LS_SKIP(n, msb)
    GATE_PORTS(LS_CLK, LS_SKIP)
#undef LS_CLK
#undef LS_SKIP
    p.eval();
    if (p.cycle >= dumpFrom) p.dump("rising edge");
    if (p.cycle >= warmup && !p.compare("rising edge")) break;
  }
  a->final();
  b->final();
  if (!p.diff.empty()) {
    std::printf("FAIL: %s\n", p.diff.c_str());
    return 1;
  }
  std::printf("PASS: %llu cycles, %llu comparisons, rtl %.0f cycles/s, netlist %.0f cycles/s\n", (unsigned long long)cycles,
              (unsigned long long)p.checks, cycles / (p.ta > 0 ? p.ta : 1e-9), cycles / (p.tb > 0 ? p.tb : 1e-9));
  return 0;
}
