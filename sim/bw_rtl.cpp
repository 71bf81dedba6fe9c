// Verilator harness of the bitweave array: the memories of bw_top's lanes as C++ vectors
// (one access per lane per cycle, checked against the buffer sizes), the clock loop,
// cycle counters and an optional FST trace. See bw_rtl.h for the ABI.
#include "bw_rtl.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

#include "Vbw_top.h"
#include "bitweave_array.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace {

// widths of Verilator ports: up to 32 bits IData, up to 64 QData, wider VlWide
template <class T> inline uint32_t get32(const T &v, int i) { return (uint32_t)((uint64_t)v >> (32 * i)); }
template <std::size_t N> inline uint32_t get32(const VlWide<N> &v, int i) { return v[i]; }
template <class T> inline void set32(T &v, int i, uint32_t x) {
  uint64_t m = 0xffffffffull << (32 * i);
  v = (T)(((uint64_t)v & ~m) | ((uint64_t)x << (32 * i)));
}
template <std::size_t N> inline void set32(VlWide<N> &v, int i, uint32_t x) { v[i] = x; }
// 64-bit word i of a port
template <class T> inline uint64_t get64(const T &v, int i) { return get32(v, 2 * i) | (uint64_t)get32(v, 2 * i + 1) << 32; }
template <class T> inline void set64(T &v, int i, uint64_t x) {
  set32(v, 2 * i, (uint32_t)x);
  set32(v, 2 * i + 1, (uint32_t)(x >> 32));
}
template <class T> inline bool bit(const T &v, int i) { return ((uint64_t)v >> i) & 1; }
template <std::size_t N> inline bool bit(const VlWide<N> &v, int i) { return (v[i / 32] >> (i % 32)) & 1; }

constexpr uint64_t MAX_WORDS = 1ull << 31;  // 16 GiB of 64-bit words; addresses are 32-bit

struct Rtl {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vbw_top> top;
  std::unique_ptr<VerilatedFstC> fst;
  std::vector<uint32_t> desc;
  std::vector<uint32_t> param;
  std::vector<uint64_t> weight;
  std::vector<uint64_t> arena;
  uint64_t cycles = 0;
  uint64_t time = 0;
  std::vector<uint64_t> layer_cycles;
  bool started = false;
  bool finished = false;
  int fault = 0;
  std::string error;
};

std::unordered_set<Rtl *> live;
std::string lib_error;

int rows() { return BW_ROWS; }
int cols() { return BW_COLS; }
int drain() { return BW_RTL_DRAIN == 0 ? BW_COLS : BW_RTL_DRAIN; }  // columns drained per cycle

Rtl *handle(void *h) {
  Rtl *r = static_cast<Rtl *>(h);
  if (!h || !live.count(r)) {
    lib_error = h ? "bitweave rtl: unknown or freed handle" : "bitweave rtl: null handle";
    return nullptr;
  }
  return r;
}

int fail(Rtl *r, int code, const std::string &msg) {
  r->error = msg;
  return code;
}

void dump(Rtl *r) {
  if (r->fst) r->fst->dump(r->time);
  r->time++;
}

// one clock: rising edge, then the memories answer the lanes' registered requests and
// apply the writes, then the falling edge settles the inputs.
void tick(Rtl *r) {
  Vbw_top *t = r->top.get();
  t->clk = 1;
  t->eval();
  dump(r);
  // the write ports of every drained column: bit-plane words or the pixel's int32 results
  auto store = [r](uint64_t a, uint64_t d, uint64_t m) {
    if (a >= r->arena.size()) {
      if (!r->fault) r->error = "RTL wrote arena word " + std::to_string(a) + " outside the arena of " + std::to_string(r->arena.size()) + " words";
      r->fault = BWRTL_E_ACCESS;
      return;
    }
    r->arena[a] = (r->arena[a] & ~m) | (d & m);
  };
  for (int c = 0; c < drain(); c++) {
    if (bit(t->o_pen, c)) {
      const uint64_t m = t->o_pmask;
      for (uint32_t l = 0; l < t->o_pbits && l < BW_RTL_MAX_OUT_BITS; l++) {
        const int q = c * BW_RTL_MAX_OUT_BITS + (int)l;
        store(get32(t->o_pbase, c) + (uint64_t)l * t->o_pstride, get64(t->o_pdata, q), m);
      }
    }
    if (bit(t->o_ien, c)) {
      for (int row = 0; row < rows(); row++) {
        if (!bit(t->o_irows, row)) continue;
        const uint64_t idx = (uint64_t)get32(t->o_ibase, c) + row;
        const uint64_t v = get32(t->o_idata, c * rows() + row);
        store(idx >> 1, idx & 1 ? v << 32 : v, idx & 1 ? 0xffffffff00000000ull : 0xffffffffull);
      }
    }
  }
  auto oob = [r](const char *what, uint32_t a, std::size_t n) {
    if (!r->fault) r->error = std::string("RTL read ") + what + " word " + std::to_string(a) + " outside the buffer of " + std::to_string(n) + " words";
    r->fault = BWRTL_E_ACCESS;
  };
  // one read lane: the word at the lane's registered address (0 and a fault outside the buffer)
  auto word = [&oob](const auto &mem, const char *what, uint32_t a) -> uint64_t {
    if (a < mem.size()) return mem[a];
    oob(what, a, mem.size());
    return 0;
  };
  if (t->d_en) t->d_rdata = (uint32_t)word(r->desc, "descriptor", t->d_addr);
  for (int l = 0; l < rows(); l++) {
    if (bit(t->p_en, l)) set32(t->p_rdata, l, (uint32_t)word(r->param, "parameter", get32(t->p_addr, l)));
    if (bit(t->w_en, l)) set64(t->w_rdata, l, word(r->weight, "weight", get32(t->w_addr, l)));
  }
  for (int c = 0; c < cols(); c++) {
    if (bit(t->a_en, c)) set64(t->a_rdata, c, word(r->arena, "arena", get32(t->a_addr, c)));
  }
  t->clk = 0;
  t->eval();
  dump(r);
}

// element data and count of one memory
bool memView(Rtl *r, int32_t mem, uint8_t *&data, uint64_t &count, std::size_t &elem) {
  switch (mem) {
    case BWRTL_MEM_DESC: data = (uint8_t *)r->desc.data(); count = r->desc.size(); elem = 4; return true;
    case BWRTL_MEM_PARAM: data = (uint8_t *)r->param.data(); count = r->param.size(); elem = 4; return true;
    case BWRTL_MEM_WEIGHT: data = (uint8_t *)r->weight.data(); count = r->weight.size(); elem = 8; return true;
    case BWRTL_MEM_ARENA: data = (uint8_t *)r->arena.data(); count = r->arena.size(); elem = 8; return true;
    default: return false;
  }
}

}  // namespace

extern "C" {

int bwrtl_info(int32_t *info, int32_t n) {
  if (!info || n < 0) return BWRTL_E_ARG;
  const int32_t v[9] = {rows(), cols(), BW_WORD, BW_ACC_BITS, BW_RTL_MAX_OUT_BITS, BW_RTL_PDEPTH, BW_RTL_TS,
                        BW_DESC_WORDS, drain()};
  for (int32_t i = 0; i < n && i < 9; i++) info[i] = v[i];
  return 9;
}

void *bwrtl_create(void) {
  try {
    auto r = std::make_unique<Rtl>();
    r->ctx = std::make_unique<VerilatedContext>();
    r->ctx->traceEverOn(true);
    r->top = std::make_unique<Vbw_top>(r->ctx.get(), "bw");
    Rtl *p = r.release();
    live.insert(p);
    return p;
  } catch (...) {
    lib_error = "bitweave rtl: cannot create the model (out of memory)";
    return nullptr;
  }
}

int bwrtl_free(void *h) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  live.erase(r);
  if (r->fst) r->fst->close();
  r->top->final();
  delete r;
  return BWRTL_OK;
}

int bwrtl_alloc(void *h, int32_t mem, uint64_t count) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (mem < 0 || mem > 3) return fail(r, BWRTL_E_ARG, "bad memory id " + std::to_string(mem));
  if (count > MAX_WORDS) return fail(r, BWRTL_E_NOMEM, "memory of " + std::to_string(count) + " elements is above the limit of 2^31");
  try {
    switch (mem) {
      case BWRTL_MEM_DESC: r->desc.assign(count, 0); break;
      case BWRTL_MEM_PARAM: r->param.assign(count, 0); break;
      case BWRTL_MEM_WEIGHT: r->weight.assign(count, 0); break;
      default: r->arena.assign(count, 0); break;
    }
  } catch (...) {
    return fail(r, BWRTL_E_NOMEM, "out of memory allocating " + std::to_string(count) + " elements");
  }
  return BWRTL_OK;
}

static int memAccess(void *h, int32_t mem, uint64_t offset, void *buf, uint64_t count, bool write) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  uint8_t *data;
  uint64_t n;
  std::size_t elem;
  if (!memView(r, mem, data, n, elem)) return fail(r, BWRTL_E_ARG, "bad memory id " + std::to_string(mem));
  if (!buf && count > 0) return fail(r, BWRTL_E_ARG, "null buffer");
  if (offset > n || count > n - offset) {
    return fail(r, BWRTL_E_RANGE, "elements " + std::to_string(offset) + "+" + std::to_string(count) + " outside memory " + std::to_string(mem) + " of " + std::to_string(n));
  }
  if (count == 0) return BWRTL_OK;
  if (write) std::memcpy(data + offset * elem, buf, count * elem);
  else std::memcpy(buf, data + offset * elem, count * elem);
  return BWRTL_OK;
}

int bwrtl_write(void *h, int32_t mem, uint64_t offset, const void *data, uint64_t count) {
  return memAccess(h, mem, offset, const_cast<void *>(data), count, true);
}

int bwrtl_read(void *h, int32_t mem, uint64_t offset, void *out, uint64_t count) { return memAccess(h, mem, offset, out, count, false); }

int bwrtl_start(void *h, uint32_t layers, uint32_t batch, uint32_t arena_words) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (layers == 0 || batch == 0) return fail(r, BWRTL_E_ARG, "layers and batch must be >= 1");
  if ((uint64_t)layers * BW_DESC_WORDS > r->desc.size()) return fail(r, BWRTL_E_RANGE, "descriptor memory holds fewer than " + std::to_string(layers) + " layers");
  if ((uint64_t)batch * arena_words > r->arena.size()) return fail(r, BWRTL_E_RANGE, "arena memory is smaller than batch x arena_words");
  Vbw_top *t = r->top.get();
  t->n_layers = layers;
  t->batch = batch;
  t->arena_words = arena_words;
  t->arena_base = 0;
  t->start = 0;
  t->rst = 1;
  // the datapath has no reset: holding rst flushes the pipelines
  for (int i = 0; i < 2 * (rows() + cols()) + 16; i++) tick(r);
  t->rst = 0;
  tick(r);
  t->start = 1;
  r->cycles = 0;
  r->layer_cycles.assign(layers, 0);
  r->fault = 0;
  r->finished = false;
  r->started = true;
  return BWRTL_OK;
}

int bwrtl_run(void *h, uint64_t max_cycles) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (!r->started) return fail(r, BWRTL_E_STATE, "run before start");
  if (r->fault) return r->fault;
  if (r->finished) return 1;
  Vbw_top *t = r->top.get();
  for (uint64_t i = 0; i < max_cycles; i++) {
    tick(r);
    t->start = 0;
    r->cycles++;
    uint32_t l = t->layer;
    if (l < r->layer_cycles.size()) r->layer_cycles[l]++;
    if (r->fault) return r->fault;
    if (t->done && !t->busy) {
      r->finished = true;
      if (t->err) return fail(r, BWRTL_E_RTL, "the RTL rejected the layer program (error bits " + std::to_string(t->err) + ")");
      return 1;
    }
  }
  return 0;
}

int bwrtl_cycles(void *h, uint64_t *out) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (!out) return fail(r, BWRTL_E_ARG, "null pointer");
  *out = r->cycles;
  return BWRTL_OK;
}

int bwrtl_layer_cycles(void *h, uint64_t *out, int32_t n) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (!out || n < 0) return fail(r, BWRTL_E_ARG, "null pointer or negative count");
  for (int32_t i = 0; i < n && (std::size_t)i < r->layer_cycles.size(); i++) out[i] = r->layer_cycles[i];
  return (int)r->layer_cycles.size();
}

int bwrtl_trace(void *h, const char *path) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (r->fst) {
    r->fst->close();
    r->fst.reset();
  }
  if (!path) return BWRTL_OK;
  FILE *probe = std::fopen(path, "wb");
  if (!probe) return fail(r, BWRTL_E_ARG, std::string("cannot open trace file ") + path);
  std::fclose(probe);
  r->fst = std::make_unique<VerilatedFstC>();
  r->top->trace(r->fst.get(), 99);
  r->fst->open(path);
  return BWRTL_OK;
}

int bwrtl_rtl_err(void *h, uint32_t *out) {
  Rtl *r = handle(h);
  if (!r) return BWRTL_E_ARG;
  if (!out) return fail(r, BWRTL_E_ARG, "null pointer");
  *out = r->top->err;
  return BWRTL_OK;
}

const char *bwrtl_error(void *h) {
  Rtl *r = static_cast<Rtl *>(h);
  if (h && live.count(r)) return r->error.c_str();
  return lib_error.c_str();
}

}  // extern "C"
