// Verilator harness of the RTL kernel behind AXI (bw_axi_kernel): a DDR model behind each
// AXI4 master (one bank per master: a latency, a bandwidth in bytes per cycle, in-order
// bursts, every access checked against the allocated buffers and the AXI4 burst rules) and
// an AXI4-Lite driver of the control port. See bw_axi_sim.h for the ABI.
#include "bw_axi_sim.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "Vbw_axi_kernel.h"
#include "bitweave_array.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace {

// widths of Verilator ports: up to 8 bits CData, 32 IData, 64 QData, wider VlWide
template <class T> inline uint32_t get32(const T &v, int i) { return (uint32_t)((uint64_t)v >> (32 * i)); }
template <std::size_t N> inline uint32_t get32(const VlWide<N> &v, int i) { return v[i]; }
template <class T> inline void set32(T &v, int i, uint32_t x) {
  const uint64_t m = 0xffffffffull << (32 * i);
  v = (T)(((uint64_t)v & ~m) | ((uint64_t)x << (32 * i)));
}
template <std::size_t N> inline void set32(VlWide<N> &v, int i, uint32_t x) { v[i] = x; }
template <class T> inline bool bit(const T &v, int i) { return ((uint64_t)v >> i) & 1; }
template <std::size_t N> inline bool bit(const VlWide<N> &v, int i) { return (v[i / 32] >> (i % 32)) & 1; }

constexpr int DW = BW_AXI_DATA_BITS;
constexpr int BYTES = DW / 8;
constexpr uint64_t BASE = 0x100000000ull;      // first device address
constexpr uint64_t LIMIT = 1ull << 36;         // 64 GiB of device addresses
constexpr uint64_t MAX_BUFFER = 1ull << 34;    // one buffer at most 16 GiB
constexpr int QUEUE = 16;                      // bursts the memory accepts ahead

using Data = std::remove_reference_t<decltype(std::declval<Vbw_axi_kernel>().m_axi_gmem0_WDATA)>;
using Strb = std::remove_reference_t<decltype(std::declval<Vbw_axi_kernel>().m_axi_gmem0_WSTRB)>;

struct Pins {
  CData *awvalid, *awready; QData *awaddr; CData *awlen, *awsize, *awburst;
  CData *wvalid, *wready; Data *wdata; Strb *wstrb; CData *wlast;
  CData *bvalid, *bready, *bresp;
  CData *arvalid, *arready; QData *araddr; CData *arlen, *arsize, *arburst;
  CData *rvalid, *rready; Data *rdata; CData *rlast, *rresp;
};
#define BW_PINS(t, P)                                                                                              \
  Pins {                                                                                                           \
    &t->P##_AWVALID, &t->P##_AWREADY, &t->P##_AWADDR, &t->P##_AWLEN, &t->P##_AWSIZE, &t->P##_AWBURST,               \
        &t->P##_WVALID, &t->P##_WREADY, &t->P##_WDATA, &t->P##_WSTRB, &t->P##_WLAST, &t->P##_BVALID, &t->P##_BREADY, \
        &t->P##_BRESP, &t->P##_ARVALID, &t->P##_ARREADY, &t->P##_ARADDR, &t->P##_ARLEN, &t->P##_ARSIZE,             \
        &t->P##_ARBURST, &t->P##_RVALID, &t->P##_RREADY, &t->P##_RDATA, &t->P##_RLAST, &t->P##_RRESP                \
  }

struct Burst {
  uint64_t addr;
  uint32_t beats;
  uint32_t done;
  uint64_t ready;  // cycle from which its first beat may move
};

struct Master {
  Pins p;
  std::deque<Burst> reads, writes;
  std::deque<uint64_t> responses;  // cycles at which write responses are due
  double credit = 0;
  uint64_t bytes_read = 0, bytes_written = 0, moving = 0;
};

struct Buffer {
  uint64_t size;
  std::vector<uint8_t> bytes;
};

struct Lite {
  int op = 0;  // 0 none, 1 write, 2 read
  uint32_t offset = 0, value = 0;
  bool aw = false, w = false, ar = false, finished = false;
};

struct Sim {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vbw_axi_kernel> top;
  std::unique_ptr<VerilatedFstC> fst;
  Master m[3];
  Lite lite;
  std::map<uint64_t, Buffer> mem;
  uint64_t next_addr = BASE;
  uint32_t read_latency = 0, write_latency = 0;
  double bytes_per_cycle = 0;
  uint64_t cycles = 0, time = 0;
  int fault = 0;
  std::string error;
};

std::unordered_set<Sim *> live;
std::string lib_error;

Sim *handle(void *h) {
  Sim *s = static_cast<Sim *>(h);
  if (!h || !live.count(s)) {
    lib_error = h ? "bitweave axi: unknown or freed handle" : "bitweave axi: null handle";
    return nullptr;
  }
  return s;
}

int fail(Sim *s, int code, const std::string &msg) {
  s->error = msg;
  return code;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
  return b;
}

// the buffer holding [addr, addr + len), or null
Buffer *find(Sim *s, uint64_t addr, uint64_t len, uint64_t &off) {
  auto it = s->mem.upper_bound(addr);
  if (it == s->mem.begin()) return nullptr;
  --it;
  if (addr - it->first > it->second.size || len > it->second.size - (addr - it->first)) return nullptr;
  off = addr - it->first;
  return &it->second;
}

void fault(Sim *s, const std::string &msg) {
  if (!s->fault) s->error = msg;
  s->fault = BWAXI_E_ACCESS;
}

const char *NAMES[3] = {"gmem0", "gmem1", "gmem2"};

// checks of a burst request (AXI4 INCR, full-width beats, no 4 KiB crossing, one buffer)
bool checkBurst(Sim *s, int k, const char *dir, uint64_t addr, uint32_t beats, int size, int burst) {
  const std::string what = std::string(NAMES[k]) + " " + dir + " burst at " + hex(addr) + " of " + std::to_string(beats) + " beats";
  if (burst != 1) return fault(s, what + ": not INCR"), false;
  if ((1 << size) != BYTES) return fault(s, what + ": beat size " + std::to_string(1 << size) + " bytes, not the bus's " + std::to_string(BYTES)), false;
  if (addr % BYTES) return fault(s, what + ": address not aligned to a beat"), false;
  const uint64_t len = (uint64_t)beats * BYTES;
  if ((addr >> 12) != ((addr + len - 1) >> 12)) return fault(s, what + ": crosses a 4 KiB boundary"), false;
  uint64_t off;
  if (!find(s, addr, len, off)) return fault(s, what + ": outside every allocated buffer"), false;
  return true;
}

void dump(Sim *s) {
  if (s->fst) s->fst->dump(s->time);
  s->time++;
}

// one clock: settle the inputs, take the handshakes of this edge, rising edge, then the
// memories' and the driver's answers for the next cycle, falling edge
void tick(Sim *s) {
  Vbw_axi_kernel *t = s->top.get();
  Lite &L = s->lite;
  t->s_axi_control_AWVALID = L.op == 1 && !L.aw;
  t->s_axi_control_WVALID = L.op == 1 && !L.w;
  t->s_axi_control_BREADY = L.op == 1 && L.aw && L.w;
  t->s_axi_control_ARVALID = L.op == 2 && !L.ar;
  t->s_axi_control_RREADY = L.op == 2 && L.ar;
  t->s_axi_control_AWADDR = L.offset;
  t->s_axi_control_ARADDR = L.offset;
  t->s_axi_control_WDATA = L.value;
  t->s_axi_control_WSTRB = 0xf;
  t->eval();
  // control port handshakes
  if (t->s_axi_control_AWVALID && t->s_axi_control_AWREADY) L.aw = true;
  if (t->s_axi_control_WVALID && t->s_axi_control_WREADY) L.w = true;
  if (t->s_axi_control_BVALID && t->s_axi_control_BREADY) L.finished = true;
  if (t->s_axi_control_ARVALID && t->s_axi_control_ARREADY) L.ar = true;
  if (t->s_axi_control_RVALID && t->s_axi_control_RREADY) {
    L.value = t->s_axi_control_RDATA;
    L.finished = true;
  }
  // master handshakes
  for (int k = 0; k < 3; k++) {
    Master &M = s->m[k];
    Pins &p = M.p;
    if (*p.arvalid && *p.arready) {
      const uint32_t beats = (uint32_t)*p.arlen + 1;
      if (checkBurst(s, k, "read", *p.araddr, beats, *p.arsize, *p.arburst)) M.reads.push_back({*p.araddr, beats, 0, s->cycles + s->read_latency});
    }
    bool moved = false;
    if (*p.rvalid && *p.rready) {
      Burst &b = M.reads.front();
      M.bytes_read += BYTES;
      M.credit -= BYTES;
      moved = true;
      if (++b.done == b.beats) M.reads.pop_front();
    }
    if (*p.awvalid && *p.awready) {
      const uint32_t beats = (uint32_t)*p.awlen + 1;
      if (checkBurst(s, k, "write", *p.awaddr, beats, *p.awsize, *p.awburst)) M.writes.push_back({*p.awaddr, beats, 0, s->cycles});
    }
    if (*p.wvalid && *p.wready) {
      Burst &b = M.writes.front();
      const bool last = b.done + 1 == b.beats;
      if ((bool)*p.wlast != last) fault(s, std::string(NAMES[k]) + " write burst at " + hex(b.addr) + ": WLAST on beat " + std::to_string(b.done + 1) + " of " + std::to_string(b.beats));
      uint64_t off;
      Buffer *buf = find(s, b.addr + (uint64_t)b.done * BYTES, BYTES, off);
      if (buf) {
        for (int i = 0; i < BYTES; i++) {
          if (bit(*p.wstrb, i)) buf->bytes[off + i] = (uint8_t)(get32(*p.wdata, i / 4) >> (8 * (i % 4)));
        }
      }
      M.bytes_written += BYTES;
      M.credit -= BYTES;
      moved = true;
      if (++b.done == b.beats) {
        M.writes.pop_front();
        M.responses.push_back(s->cycles + s->write_latency);
      }
    }
    if (*p.bvalid && *p.bready) M.responses.pop_front();
    if (moved) M.moving++;
  }
  t->ap_clk = 1;
  t->eval();
  dump(s);
  s->cycles++;
  // the memories' inputs for the next cycle
  for (int k = 0; k < 3; k++) {
    Master &M = s->m[k];
    Pins &p = M.p;
    M.credit = std::min(M.credit + s->bytes_per_cycle, 2.0 * BYTES);
    *p.arready = M.reads.size() < QUEUE;
    *p.awready = M.writes.size() < QUEUE;
    double left = M.credit;
    *p.rvalid = 0;
    *p.rlast = 0;
    *p.rresp = 0;
    if (!M.reads.empty() && M.reads.front().ready <= s->cycles && left >= BYTES) {
      const Burst &b = M.reads.front();
      uint64_t off;
      Buffer *buf = find(s, b.addr + (uint64_t)b.done * BYTES, BYTES, off);
      for (int i = 0; i < DW / 32; i++) {
        uint32_t w = 0;
        if (buf) std::memcpy(&w, buf->bytes.data() + off + 4 * i, 4);
        set32(*p.rdata, i, w);
      }
      *p.rvalid = 1;
      *p.rlast = b.done + 1 == b.beats;
      left -= BYTES;
    }
    *p.wready = !M.writes.empty() && left >= BYTES;
    *p.bvalid = !M.responses.empty() && M.responses.front() <= s->cycles;
    *p.bresp = 0;
  }
  t->ap_clk = 0;
  t->eval();
  dump(s);
}

// run the control port's access to completion
int lite(Sim *s, int op, uint32_t offset, uint32_t value, uint32_t *out) {
  if (s->fault) return s->fault;
  s->lite = Lite{op, offset, value, false, false, false, false};
  for (int i = 0; i < 1000 && !s->lite.finished; i++) {
    tick(s);
    if (s->fault) return s->fault;
  }
  const bool ok = s->lite.finished;
  if (out) *out = s->lite.value;
  s->lite = Lite{};
  if (!ok) return fail(s, BWAXI_E_TIMEOUT, "control register " + hex(offset) + ": no AXI4-Lite response in 1000 cycles");
  return BWAXI_OK;
}

}  // namespace

extern "C" {

int bwaxi_info(int32_t *info, int32_t n) {
  if (!info || n < 0) return BWAXI_E_ARG;
  const int32_t v[13] = {BW_ROWS, BW_COLS, BW_WORD, BW_ACC_BITS, BW_AXI_DATA_BITS, BW_AXI_OUTSTANDING, BW_AXI_MAX_BURST,
                         BW_AXI_DESC_DEPTH, BW_AXI_PARAM_DEPTH, BW_AXI_WEIGHT_ROWS, BW_AXI_ARENA_WORDS, BW_AXI_DRAIN,
                         BW_AXI_MAX_OUT_BITS};
  for (int32_t i = 0; i < n && i < 13; i++) info[i] = v[i];
  return 13;
}

void *bwaxi_create(uint32_t read_latency, uint32_t write_latency, double bytes_per_cycle) {
  if (!(bytes_per_cycle > 0) || bytes_per_cycle > 1e6 || read_latency > 100000 || write_latency > 100000) {
    lib_error = "bitweave axi: latency above 100000 cycles or bandwidth not positive";
    return nullptr;
  }
  try {
    auto s = std::make_unique<Sim>();
    s->ctx = std::make_unique<VerilatedContext>();
    s->ctx->traceEverOn(true);
    s->top = std::make_unique<Vbw_axi_kernel>(s->ctx.get(), "bw");
    Vbw_axi_kernel *t = s->top.get();
    s->m[0].p = BW_PINS(t, m_axi_gmem0);
    s->m[1].p = BW_PINS(t, m_axi_gmem1);
    s->m[2].p = BW_PINS(t, m_axi_gmem2);
    s->read_latency = read_latency;
    s->write_latency = write_latency;
    s->bytes_per_cycle = bytes_per_cycle;
    t->ap_rst_n = 0;
    for (int i = 0; i < 4; i++) tick(s.get());
    t->ap_rst_n = 1;
    tick(s.get());
    Sim *p = s.release();
    live.insert(p);
    return p;
  } catch (...) {
    lib_error = "bitweave axi: cannot create the model (out of memory)";
    return nullptr;
  }
}

int bwaxi_free(void *h) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  live.erase(s);
  if (s->fst) s->fst->close();
  s->top->final();
  delete s;
  return BWAXI_OK;
}

int bwaxi_alloc(void *h, uint64_t bytes, uint64_t *addr) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (!addr) return fail(s, BWAXI_E_ARG, "null pointer");
  if (bytes == 0 || bytes > MAX_BUFFER) return fail(s, BWAXI_E_ARG, "buffer of " + std::to_string(bytes) + " bytes (1 .. 2^34)");
  const uint64_t span = (bytes + 4095) / 4096 * 4096 + 4096;  // a guard page after it
  if (s->next_addr + span > LIMIT) return fail(s, BWAXI_E_NOMEM, "device address space exhausted");
  try {
    Buffer b{bytes, std::vector<uint8_t>(bytes, 0)};
    s->mem.emplace(s->next_addr, std::move(b));
  } catch (...) {
    return fail(s, BWAXI_E_NOMEM, "out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  *addr = s->next_addr;
  s->next_addr += span;
  return BWAXI_OK;
}

int bwaxi_release(void *h, uint64_t addr) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (!s->mem.erase(addr)) return fail(s, BWAXI_E_ARG, "no buffer at " + hex(addr));
  return BWAXI_OK;
}

static int hostAccess(void *h, uint64_t addr, void *buf, uint64_t bytes, bool write) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (!buf && bytes) return fail(s, BWAXI_E_ARG, "null buffer");
  if (!bytes) return BWAXI_OK;
  uint64_t off;
  Buffer *b = find(s, addr, bytes, off);
  if (!b) return fail(s, BWAXI_E_RANGE, "bytes " + hex(addr) + "+" + std::to_string(bytes) + " outside every buffer");
  if (write) std::memcpy(b->bytes.data() + off, buf, bytes);
  else std::memcpy(buf, b->bytes.data() + off, bytes);
  return BWAXI_OK;
}

int bwaxi_write(void *h, uint64_t addr, const void *data, uint64_t bytes) { return hostAccess(h, addr, const_cast<void *>(data), bytes, true); }
int bwaxi_read(void *h, uint64_t addr, void *out, uint64_t bytes) { return hostAccess(h, addr, out, bytes, false); }

int bwaxi_reg_write(void *h, uint32_t offset, uint32_t value) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (offset % 4 || offset >= 256) return fail(s, BWAXI_E_ARG, "control offset " + hex(offset) + " (a multiple of 4 below 0x100)");
  return lite(s, 1, offset, value, nullptr);
}

int bwaxi_reg_read(void *h, uint32_t offset, uint32_t *out) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (!out) return fail(s, BWAXI_E_ARG, "null pointer");
  if (offset % 4 || offset >= 256) return fail(s, BWAXI_E_ARG, "control offset " + hex(offset) + " (a multiple of 4 below 0x100)");
  return lite(s, 2, offset, 0, out);
}

int bwaxi_wait_done(void *h, uint64_t max_cycles, uint32_t interval) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (interval == 0) return fail(s, BWAXI_E_ARG, "poll interval 0");
  const uint64_t end = s->cycles + max_cycles;
  while (s->cycles < end) {
    uint32_t ctrl;
    int rc = lite(s, 2, BW_AXI_CTRL, 0, &ctrl);
    if (rc) return rc;
    if (ctrl & BW_AXI_AP_DONE) return 1;
    for (uint32_t i = 0; i < interval && s->cycles < end; i++) {
      tick(s);
      if (s->fault) return s->fault;
    }
  }
  return 0;
}

int bwaxi_counters(void *h, uint64_t *out, int32_t n) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (!out || n < 0) return fail(s, BWAXI_E_ARG, "null pointer or negative count");
  const uint64_t v[10] = {s->cycles, s->m[0].bytes_read, s->m[1].bytes_read, s->m[2].bytes_read,
                          s->m[0].bytes_written, s->m[1].bytes_written, s->m[2].bytes_written,
                          s->m[0].moving, s->m[1].moving, s->m[2].moving};
  for (int32_t i = 0; i < n && i < 10; i++) out[i] = v[i];
  return 10;
}

int bwaxi_trace(void *h, const char *path) {
  Sim *s = handle(h);
  if (!s) return BWAXI_E_ARG;
  if (s->fst) {
    s->fst->close();
    s->fst.reset();
  }
  if (!path) return BWAXI_OK;
  FILE *probe = std::fopen(path, "wb");
  if (!probe) return fail(s, BWAXI_E_ARG, std::string("cannot open trace file ") + path);
  std::fclose(probe);
  s->fst = std::make_unique<VerilatedFstC>();
  s->top->trace(s->fst.get(), 99);
  s->fst->open(path);
  return BWAXI_OK;
}

const char *bwaxi_error(void *h) {
  Sim *s = static_cast<Sim *>(h);
  if (h && live.count(s)) return s->error.c_str();
  return lib_error.c_str();
}

}  // extern "C"
