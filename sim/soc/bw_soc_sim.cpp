// The whole dev-board SoC (bw_soc: array, memories, UART link) under Verilator, behind a
// pseudo-terminal: what the host writes to the pty is shifted into uart_rx bit by bit at
// the SoC's baud divisor, and every byte the SoC shifts out of uart_tx is written back to
// the pty. The host driver (host/board/) opens the pty like a USB serial port, so tests run
// the code path a user runs on a board.
//
//   bitweave-soc-sim [--link PATH] [--trace FILE.fst]
// prints "pty <path>" on stdout once the pty is ready, then runs until SIGTERM/SIGINT.
// While the link is quiet (no byte in for longer than the link timeout, none out for two
// character times), the array idle and the UART silent, the model is not clocked: it waits
// for the next byte.
// The UART starts at BW_SOC_CLKS_PER_BIT clocks per bit; the harness follows the link's
// BAUD command (docs/BOARD-PROTOCOL.md) as the SoC does: it reads the host's frames and the
// SoC's replies, and after an OK reply to BAUD both directions use the new clocks per bit.
//
// BW_SOC_MODEL names the Verilator class and BW_PORT_* its ports (defaults: the RTL bw_soc's
// clk, rst, uart_rx, uart_tx, led; bit 0 of the LEDs is busy), so the harness also builds
// against a board top's gate-level model (sim/gate/gate.sh; bw_ulx3s: clk_25mhz, btn_fire1,
// ftdi_txd, ftdi_rxd, led).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#ifndef BW_SOC_MODEL
#define BW_SOC_MODEL Vbw_soc
#define BW_SOC_HEADER "Vbw_soc.h"
#endif
#ifndef BW_PORT_CLK
#define BW_PORT_CLK clk
#define BW_PORT_RST rst
#define BW_PORT_RX uart_rx
#define BW_PORT_TX uart_tx
#define BW_PORT_LED led
#endif
#ifndef BW_SOC_TRACE
#define BW_SOC_TRACE 1  // the model is built with --trace-fst (0: --trace is refused)
#endif
#include BW_SOC_HEADER
#include "verilated.h"
#if BW_SOC_TRACE
#include "verilated_fst_c.h"
#endif

// the build's CLK_HZ / BAUD and link timeout
#ifndef BW_SOC_CLKS_PER_BIT
#error "BW_SOC_CLKS_PER_BIT (CLK_HZ / BAUD of the build) must be defined"
#endif
#ifndef BW_SOC_TIMEOUT
#error "BW_SOC_TIMEOUT (the link timeout of the build) must be defined"
#endif

namespace {

int cpb = BW_SOC_CLKS_PER_BIT;  // clocks per bit now (from reset, then as BAUD sets it)
const uint64_t link_timeout = BW_SOC_TIMEOUT;
volatile std::sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "bitweave-soc-sim: %s\n", msg.c_str());
  std::exit(1);
}

// the host -> SoC direction: bytes waiting to be shifted into uart_rx
struct Sender {
  std::deque<uint8_t> queue;
  int bit = -1;  // -1 idle; 0 start; 1..8 data; 9 stop
  int count = 0;
  uint8_t byte = 0;
  // the rx line level for this cycle
  bool level() {
    if (bit < 0) {
      if (queue.empty()) return true;
      byte = queue.front();
      queue.pop_front();
      bit = 0;
      count = 0;
    }
    const bool v = bit == 0 ? false : bit <= 8 ? ((byte >> (bit - 1)) & 1) : true;
    if (++count == cpb) {
      count = 0;
      if (++bit == 10) bit = -1;
    }
    return v;
  }
  bool idle() const { return bit < 0 && queue.empty(); }
};

// the SoC -> host direction: uart_tx sampled mid-bit
struct Receiver {
  int bit = -1;
  int count = 0;
  uint8_t byte = 0;
  bool last = true;
  // returns a byte (0..255) when one completes, -1 otherwise
  int sample(bool v) {
    int out = -1;
    if (bit < 0) {
      if (last && !v) {  // falling edge: a start bit
        bit = 0;
        count = 0;
      }
    } else if (++count == (bit == 0 ? cpb / 2 : cpb)) {
      count = 0;
      if (bit == 0) {
        if (v) bit = -2;  // glitch, not a start bit
      } else if (bit <= 8) {
        byte = (uint8_t)((byte >> 1) | (v ? 0x80 : 0));
      } else {
        if (v) out = byte;  // a good stop bit
        bit = -2;
      }
      bit = bit == -2 ? -1 : bit + 1;
    }
    last = v;
    return out;
  }
  bool idle() const { return bit < 0; }
};

// A frame's fields as they pass (either direction: sync, code, seq, len, payload, crc);
// feed() returns true when a frame's last byte has passed.
struct FrameWatch {
  uint8_t sync;
  int pos = -1;  // -1: hunting the sync byte; then bytes of the frame so far
  uint8_t code = 0, seq = 0;
  unsigned len = 0;
  uint8_t pay[2] = {0, 0};
  explicit FrameWatch(uint8_t s) : sync(s) {}
  bool length_fits() const {
    if (len > 1029) return false;
    switch (code) {
      case 0x01: case 0x05: return len == 0;         // INFO, STATUS
      case 0x02: return len % 4 == 1 && len >= 9;     // WRITE
      case 0x03: return len == 7;                     // READ
      case 0x04: return len == 16;                    // START
      case 0x06: return len == 2;                     // BAUD
      default: return true;
    }
  }
  bool feed(uint8_t b) {
    if (pos < 0) {
      if (b == sync) pos = 0;
      return false;
    }
    pos++;
    if (pos == 1) code = b;
    else if (pos == 2) seq = b;
    else if (pos == 3) len = b;
    else if (pos == 4) len |= (unsigned)b << 8;
    else if (pos - 5 < 2 && (unsigned)(pos - 5) < len) pay[pos - 5] = b;
    if (pos >= 4 && (unsigned)pos == 4 + len + 2) {
      pos = -1;
      return true;
    }
    // a request whose length the link refuses at once (E_LEN): the rest is hunted through
    if (pos == 4 && sync == 0xA5 && !length_fits()) pos = -1;
    return false;
  }
};

}  // namespace

int main(int argc, char **argv) {
  std::string link, trace;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--link" && i + 1 < argc) link = argv[++i];
    else if (a == "--trace" && i + 1 < argc) trace = argv[++i];
    else die("unknown argument '" + a + "' (usage: bitweave-soc-sim [--link PATH] [--trace FILE.fst])");
  }
  if (!trace.empty() && !BW_SOC_TRACE) die("this model was built without tracing (--trace)");

  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) die(std::string("cannot open a pseudo-terminal: ") + std::strerror(errno));
  const char *name = ptsname(master);
  if (!name) die("ptsname failed");
  const std::string slave_path = name;
  // keep a slave descriptor open: the pty stays usable while the host reopens it, and
  // the raw mode set here is what a client that sets none gets
  const int slave = open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  if (slave < 0) die("cannot open " + slave_path + ": " + std::strerror(errno));
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  if (!link.empty()) {
    unlink(link.c_str());
    if (symlink(slave_path.c_str(), link.c_str()) != 0) die("cannot create the link " + link + ": " + std::strerror(errno));
  }

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->traceEverOn(!trace.empty());
  auto top = std::make_unique<BW_SOC_MODEL>(ctx.get(), "soc");
#if BW_SOC_TRACE
  std::unique_ptr<VerilatedFstC> fst;
  if (!trace.empty()) {
    fst = std::make_unique<VerilatedFstC>();
    top->trace(fst.get(), 99);
    fst->open(trace.c_str());
  }
#define BW_DUMP(t) if (fst) fst->dump(t)
#else
#define BW_DUMP(t) (void)(t)
#endif
  uint64_t time = 0;
  auto tick = [&](bool rx) {
    top->BW_PORT_RX = rx;
    top->BW_PORT_CLK = 0;
    top->eval();
    BW_DUMP(time);
    time++;
    top->BW_PORT_CLK = 1;
    top->eval();
    BW_DUMP(time);
    time++;
  };
  top->BW_PORT_RX = 1;
  top->BW_PORT_RST = 1;
  for (int i = 0; i < 8; i++) tick(true);
  top->BW_PORT_RST = 0;

  std::printf("pty %s\n", slave_path.c_str());
  std::fflush(stdout);

  Sender tx_to_soc;
  Receiver rx_from_soc;
  FrameWatch request(0xA5), reply(0x5A);
  int baud_seq = -1;  // seq of a BAUD request waiting for its reply, and its clocks per bit
  int baud_cpb = 0;
  std::string out;
  uint64_t quiet = link_timeout + 1;  // cycles since the last bit into the SoC
  uint64_t out_idle = 0;                          // cycles since the SoC's last byte
  uint8_t buf[4096];
  uint64_t cycle = 0;
  // System calls are batched: the pty is read when fewer than a frame's bytes wait (every
  // 64 cycles) and written when a reply looks complete (the UART idle for two byte times)
  // or 256 bytes have gathered.
  while (!stop) {
    const bool busy = top->BW_PORT_LED & 1;
    const bool settled = quiet > link_timeout + 16 * cpb && out_idle > (uint64_t)20 * cpb && !busy && tx_to_soc.idle() && rx_from_soc.idle() && out.empty();
    if (settled || (tx_to_soc.queue.size() < 1100 && (cycle & 63) == 0)) {
      pollfd p{master, POLLIN, 0};
      const int r = poll(&p, 1, settled ? 100 : 0);
      if (r > 0 && (p.revents & POLLIN)) {
        const ssize_t n = read(master, buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++) {
          tx_to_soc.queue.push_back(buf[i]);
          if (request.feed(buf[i])) {
            baud_seq = request.code == 0x06 && request.len == 2 ? request.seq : -1;
            baud_cpb = request.pay[0] | request.pay[1] << 8;
          }
        }
      }
      if (settled && tx_to_soc.idle()) continue;
    }
    const bool rx = tx_to_soc.level();
    if (!tx_to_soc.idle()) quiet = 0;
    else if (++quiet > link_timeout) request.pos = -1;  // a cut frame is dropped
    tick(rx);
    cycle++;
    const int b = rx_from_soc.sample(top->BW_PORT_TX);
    if (b >= 0) {
      out.push_back((char)b);
      out_idle = 0;
      // an OK reply to BAUD: the SoC switches at the end of this stop bit, before any new byte
      if (reply.feed((uint8_t)b) && reply.code == 0 && reply.seq == baud_seq) {
        cpb = baud_cpb;
        baud_seq = -1;
      }
    } else {
      out_idle++;
    }
    if (!out.empty() && (out.size() >= 256 || out_idle > (uint64_t)20 * cpb)) {
      const ssize_t n = write(master, out.data(), out.size());
      if (n > 0) out.erase(0, (size_t)n);
    }
  }
#if BW_SOC_TRACE
  if (fst) fst->close();
#endif
  top->final();
  if (!link.empty()) unlink(link.c_str());
  close(slave);
  close(master);
  return 0;
}
