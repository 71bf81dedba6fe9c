// Lockstep comparison of two Verilator models of one top (sim/gate): the RTL and its
// gate-level netlist, built by sim/gate/gate.sh with two prefixes into one binary. The
// ports come from GATE_PORTS(IN, OUT), an X-macro list written by sim/gate/ports.sh from
// the RTL model's header: IN(name, msb) / OUT(name, msb) for every port.
#ifndef BW_GATE_LOCKSTEP_H
#define BW_GATE_LOCKSTEP_H
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "verilated.h"

namespace lockstep {

// ports up to 64 bits are integers, wider ones VlWide<N> (32-bit words)
inline int words(const uint8_t &) { return 1; }
inline int words(const uint16_t &) { return 1; }
inline int words(const uint32_t &) { return 1; }
inline int words(const uint64_t &) { return 2; }
template <std::size_t N> inline int words(const VlWide<N> &) { return (int)N; }
template <class T> inline uint32_t word(const T &v, int i) { return (uint32_t)((uint64_t)v >> (32 * i)); }
template <std::size_t N> inline uint32_t word(const VlWide<N> &v, int i) { return v[i]; }
template <class T> inline void setWord(T &v, int i, uint32_t x) {
  const uint64_t m = 0xffffffffull << (32 * i);
  v = (T)(((uint64_t)v & ~m) | ((uint64_t)x << (32 * i)));
}
template <std::size_t N> inline void setWord(VlWide<N> &v, int i, uint32_t x) { v[i] = x; }
// a port := a small value
template <class T> inline void set(T &v, uint32_t x) {
  for (int i = 0; i < words(v); i++) setWord(v, i, i == 0 ? x : 0);
}

// xorshift64*: the same stream on every machine
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
};

// a random value of msb+1 bits (the bits above stay 0, as Verilator requires)
template <class T> void randomize(T &v, int msb, Rng &r, int keep = -1) {
  const int bits = keep >= 0 && keep < msb + 1 ? keep : msb + 1;
  for (int i = 0; i < words(v); i++) {
    const int lo = 32 * i;
    uint32_t x = (uint32_t)r.next();
    if (bits <= lo) x = 0;
    else if (bits - lo < 32) x &= (1u << (bits - lo)) - 1;
    setWord(v, i, x);
  }
}

template <class T> std::string hex(const T &v) {
  std::string s;
  char b[12];
  for (int i = words(v) - 1; i >= 0; i--) {
    std::snprintf(b, sizeof b, "%08x", word(v, i));
    s += b;
  }
  return s;
}

template <class T> bool same(const T &a, const T &b) {
  for (int i = 0; i < words(a); i++)
    if (word(a, i) != word(b, i)) return false;
  return true;
}

// two models, evaluated in turn (each eval timed), compared port by port
template <class A, class B> struct Pair {
  A *a;
  B *b;
  uint64_t cycle = 0, checks = 0;
  double ta = 0, tb = 0;  // seconds in a->eval() and b->eval()
  std::string diff;       // the first mismatch

  Pair(A *a_, B *b_) : a(a_), b(b_) {}

  void eval() {
    auto t0 = std::chrono::steady_clock::now();
    a->eval();
    auto t1 = std::chrono::steady_clock::now();
    b->eval();
    auto t2 = std::chrono::steady_clock::now();
    ta += std::chrono::duration<double>(t1 - t0).count();
    tb += std::chrono::duration<double>(t2 - t1).count();
  }
  // b's inputs := a's inputs
  void copyInputs() {
#define LS_COPY_IN(n, msb) b->n = a->n;
#define LS_SKIP(n, msb)
    GATE_PORTS(LS_COPY_IN, LS_SKIP)
#undef LS_COPY_IN
#undef LS_SKIP
  }
  // one line per port: name, rtl value, netlist value (for --dump)
  void dump(const char *phase) {
    std::printf("-- cycle %llu (%s)\n", (unsigned long long)cycle, phase);
#define LS_DUMP(n, msb) std::printf("  %-12s %s %s\n", #n, hex(a->n).c_str(), hex(b->n).c_str());
    GATE_PORTS(LS_DUMP, LS_DUMP)
#undef LS_DUMP
  }
  // every output port; false (and diff set, once) on the first difference
  bool compare(const char *phase) {
    checks++;
    bool ok = true;
#define LS_SKIP(n, msb)
#define LS_CMP_OUT(n, msb)                                                                                    \
  if (ok && !same(a->n, b->n)) {                                                                              \
    ok = false;                                                                                               \
    if (diff.empty())                                                                                         \
      diff = "cycle " + std::to_string(cycle) + " (" + phase + "): output " #n " differs: rtl " + hex(a->n) + \
             " netlist " + hex(b->n);                                                                         \
  }
    GATE_PORTS(LS_SKIP, LS_CMP_OUT)
#undef LS_CMP_OUT
#undef LS_SKIP
    return ok;
  }
};

}  // namespace lockstep
#endif
