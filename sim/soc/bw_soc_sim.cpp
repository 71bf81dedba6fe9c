// The whole dev-board SoC (bw_soc: array, memories, UART link) under Verilator, behind a
// pseudo-terminal: what the host writes to the pty is shifted into uart_rx bit by bit at
// the SoC's baud divisor, and every byte the SoC shifts out of uart_tx is written back to
// the pty. The host driver (host/board/) opens the pty like a USB serial port, so tests run
// the code path a user runs on a board.
//
//   bitweave-soc-sim [--link PATH] [--trace FILE.fst]
// prints "pty <path>" on stdout once the pty is ready, then runs until SIGTERM/SIGINT.
// While the link is quiet (no byte for longer than the link timeout), the array idle and
// the UART silent, the model is not clocked: it waits for the next byte.
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
#include BW_SOC_HEADER
#include "verilated.h"
#include "verilated_fst_c.h"

#ifndef BW_SOC_CLKS_PER_BIT
#error "BW_SOC_CLKS_PER_BIT (CLK_HZ / BAUD of the build) must be defined"
#endif
#ifndef BW_SOC_TIMEOUT
#error "BW_SOC_TIMEOUT (the link timeout of the build) must be defined"
#endif

namespace {

constexpr int CPB = BW_SOC_CLKS_PER_BIT;
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
    if (++count == CPB) {
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
    } else if (++count == (bit == 0 ? CPB / 2 : CPB)) {
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

}  // namespace

int main(int argc, char **argv) {
  std::string link, trace;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--link" && i + 1 < argc) link = argv[++i];
    else if (a == "--trace" && i + 1 < argc) trace = argv[++i];
    else die("unknown argument '" + a + "' (usage: bitweave-soc-sim [--link PATH] [--trace FILE.fst])");
  }

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
  std::unique_ptr<VerilatedFstC> fst;
  if (!trace.empty()) {
    fst = std::make_unique<VerilatedFstC>();
    top->trace(fst.get(), 99);
    fst->open(trace.c_str());
  }
  uint64_t time = 0;
  auto tick = [&](bool rx) {
    top->BW_PORT_RX = rx;
    top->BW_PORT_CLK = 0;
    top->eval();
    if (fst) fst->dump(time);
    time++;
    top->BW_PORT_CLK = 1;
    top->eval();
    if (fst) fst->dump(time);
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
  std::string out;
  uint64_t quiet = (uint64_t)BW_SOC_TIMEOUT + 1;  // cycles since the last bit into the SoC
  uint64_t out_idle = 0;                          // cycles since the SoC's last byte
  uint8_t buf[4096];
  uint64_t cycle = 0;
  // System calls are batched: the pty is read when fewer than a frame's bytes wait (every
  // 64 cycles) and written when a reply looks complete (the UART idle for two byte times)
  // or 256 bytes have gathered.
  while (!stop) {
    const bool busy = top->BW_PORT_LED & 1;
    const bool settled = quiet > (uint64_t)BW_SOC_TIMEOUT + 16 * CPB && !busy && tx_to_soc.idle() && rx_from_soc.idle() && out.empty();
    if (settled || (tx_to_soc.queue.size() < 1100 && (cycle & 63) == 0)) {
      pollfd p{master, POLLIN, 0};
      const int r = poll(&p, 1, settled ? 100 : 0);
      if (r > 0 && (p.revents & POLLIN)) {
        const ssize_t n = read(master, buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++) tx_to_soc.queue.push_back(buf[i]);
      }
      if (settled && tx_to_soc.idle()) continue;
    }
    const bool rx = tx_to_soc.level();
    if (!tx_to_soc.idle()) quiet = 0;
    else quiet++;
    tick(rx);
    cycle++;
    const int b = rx_from_soc.sample(top->BW_PORT_TX);
    if (b >= 0) {
      out.push_back((char)b);
      out_idle = 0;
    } else {
      out_idle++;
    }
    if (!out.empty() && (out.size() >= 256 || out_idle > (uint64_t)20 * CPB)) {
      const ssize_t n = write(master, out.data(), out.size());
      if (n > 0) out.erase(0, (size_t)n);
    }
  }
  if (fst) fst->close();
  top->final();
  if (!link.empty()) unlink(link.c_str());
  close(slave);
  close(master);
  return 0;
}
