/*
 * Runtime ISA selection for the binary kernels.
 *
 * The library is compiled for baseline x86-64; kernels needing more are compiled with
 * __attribute__((target(...))) and only called after this module has checked both the CPU
 * (cpuid) and the OS (xgetbv: the kernel saves the wider registers on context switch).
 *
 * Levels (bw_isa_*):
 *   BW_ISA_SCALAR  0  64-bit scalar
 *   BW_ISA_AVX2    1  AVX2 + FMA, popcount by nibble lookup (vpshufb) + vpsadbw
 *   BW_ISA_AVX512  2  AVX-512F + AVX512_VPOPCNTDQ (vpopcntq)
 * Scalar code uses the POPCNT instruction when the CPU has it (baseline x86-64 lacks it:
 * those functions carry target("popcnt") and are called only then) and a portable
 * bit-twiddling count otherwise; bw_popcnt_set(0) forces the portable count so tests cover
 * it on any machine.
 *
 * The default is the best level, or BITWEAVE_ISA=scalar|avx2|avx512|generic read at first
 * use ("generic" = scalar without POPCNT). An unknown or unsupported value is ignored with
 * a warning on stderr.
 */
#ifndef BITWEAVE_CPU_H
#define BITWEAVE_CPU_H

/* macros (identical redefinitions elsewhere are harmless) */
#define BW_ISA_SCALAR 0
#define BW_ISA_AVX2 1
#define BW_ISA_AVX512 2
#define BW_ISA_COUNT 3

/* 1 if the CPU and OS support the level, else 0 (unknown levels: 0). */
int bw_isa_supported(int isa);
/* Best supported level (AVX512 > AVX2 > SCALAR). */
int bw_isa_best(void);
/* Force a level for all later kernel calls; returns the level, or -1 (and changes nothing)
 * if the machine lacks it or the value is unknown. */
int bw_isa_set(int isa);
/* The level kernels use now. */
int bw_isa_current(void);
/* "scalar", "avx2", "avx512", or "unknown". */
const char *bw_isa_name(int isa);
/* 1 if the CPU has the POPCNT instruction. */
int bw_cpu_has_popcnt(void);
/* Allow (1) or forbid (0) scalar code to use POPCNT; returns the new setting, or -1 when
 * enabling on a CPU without it. */
int bw_popcnt_set(int enable);
/* 1 if scalar code should use POPCNT now (the CPU has it and it is not forbidden). */
int bw_popcnt_enabled(void);
/* Online logical CPUs (>= 1). */
int bw_cpu_count(void);

#endif
