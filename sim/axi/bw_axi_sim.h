/*
 * C ABI of the RTL kernel behind its AXI interfaces (build/libbitweave_axi.so): the Verilator
 * model of bw_axi_kernel, a DDR model behind each AXI4 master, and an AXI4-Lite driver.
 * The host drives it as XRT drives a kernel: allocate device buffers and write them, set
 * the arguments through the control registers, set ap_start, poll ap_done, read back.
 * Every function checks its arguments and returns a negative BWAXI_E_* code instead of
 * crashing; bwaxi_error() explains the last one. An AXI access outside an allocated buffer,
 * a burst across 4 KiB or a malformed burst stops the model with BWAXI_E_ACCESS.
 */
#ifndef BW_AXI_SIM_H
#define BW_AXI_SIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* return codes BWAXI_OK, BWAXI_E_ARG, … and the build BW_AXI_* come from the generated
   bitweave_array.h (host/array/limits.ts, host/array/axi-kernel.ts) */
#include "bitweave_array.h"

/* info[0..12] = rows, cols, word, acc_bits, data_bits, outstanding, max_burst, desc_depth,
   param_depth, weight_rows, arena_words, drain, max_out_bits; returns the count (13) */
int bwaxi_info(int32_t *info, int32_t n);
/* a kernel with its reset applied; every master's memory answers the first beat of a read
   `read_latency` cycles after the address, a write's response `write_latency` cycles after
   its last beat, and moves at most `bytes_per_cycle` bytes per kernel cycle (reads and
   writes of one master share it: one DDR bank per master) */
void *bwaxi_create(uint32_t read_latency, uint32_t write_latency, double bytes_per_cycle);
int bwaxi_free(void *h);
/* a device buffer of `bytes` (4 KiB aligned, a guard gap after it); its address into *addr */
int bwaxi_alloc(void *h, uint64_t bytes, uint64_t *addr);
int bwaxi_release(void *h, uint64_t addr);
int bwaxi_write(void *h, uint64_t addr, const void *data, uint64_t bytes);
int bwaxi_read(void *h, uint64_t addr, void *out, uint64_t bytes);
/* AXI4-Lite accesses of the control space (each takes the cycles its handshakes take) */
int bwaxi_reg_write(void *h, uint32_t offset, uint32_t value);
int bwaxi_reg_read(void *h, uint32_t offset, uint32_t *out);
/* poll the control register every `interval` cycles until ap_done (1), or give up after
   max_cycles (0) */
int bwaxi_wait_done(void *h, uint64_t max_cycles, uint32_t interval);
/* counters since create: [0] cycles, [1..3] bytes read by gmem0..2, [4..6] bytes written,
   [7..9] cycles each master's memory was moving data; returns the count (10) */
int bwaxi_counters(void *h, uint64_t *out, int32_t n);
/* FST waveform to a file (path NULL closes it) */
int bwaxi_trace(void *h, const char *path);
const char *bwaxi_error(void *h);

#ifdef __cplusplus
}
#endif
#endif
