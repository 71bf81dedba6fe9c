# bitweave — `make demo` runs the main job, `make test` the test suite.
SHELL := /bin/bash
NPX := npx --no-install

# Native CPU library (host/native/*.c), loaded through koffi. Baseline x86-64 code with
# per-function target attributes and runtime ISA dispatch, so one build runs on any
# x86-64; files named *_march_native.c (benchmark baselines only) get -march=native.
# -ffp-contract=off: no FMA contraction, so float results match the TypeScript reference.
# bitweave_array.h (array parameters, every limit and error code) is generated from
# host/array/params.ts and limits.ts into GEN_INC, never copied, and included by the native
# engine, the HLS kernel and the C harnesses.
GEN_INC := build/include

NATIVE_SRC := $(wildcard host/native/*.c)
NATIVE_HDR := $(wildcard host/native/*.h)
NATIVE_OBJ := $(patsubst host/native/%.c,build/native/%.o,$(NATIVE_SRC))
NATIVE_CFLAGS := -O3 -fPIC -std=gnu11 -ffp-contract=off -fno-fast-math -fopenmp -Wall -Wextra -Werror=implicit-function-declaration -I$(GEN_INC)
NATIVE_LIB := build/libbitweave.so

.PHONY: setup build native csim test test-long demo models clean arm32

setup:
	@./scripts/setup.sh

build: setup native
	@# compiled output is rebuilt whole, so no stale module or test of a removed source lingers
	@rm -rf dist && $(NPX) tsc -p tsconfig.json
	@$(MAKE) --no-print-directory csim
	@# checked when the recipe runs, not when make parses: setup may just have installed it
	@if command -v verilator >/dev/null 2>&1; then $(MAKE) --no-print-directory rtl soc-sim axi-sim; \
	 else echo "bitweave: verilator not found, skipping the RTL model"; fi

native: $(NATIVE_LIB)

build/native/%.o: host/native/%.c $(NATIVE_HDR) $(GEN_INC)/bitweave_array.h
	@mkdir -p build/native
	$(CC) $(NATIVE_CFLAGS) $(if $(findstring _march_native,$*),-march=native) -c $< -o $@

$(NATIVE_LIB): $(NATIVE_OBJ)
	$(CC) -shared -fopenmp -o $@ $^ -lopenblas -lm

# The HLS kernel (hls/) C-simulated with plain g++: build/libbitweave_hls.so for the
# hls-csim backend and the per-block test benches (hls/tb/).
HLS_DEPS := $(wildcard hls/*.h hls/*.cpp hls/csim/*.cpp) $(GEN_INC)/bitweave_array.h
HLS_TB := $(patsubst hls/tb/%.cpp,build/hls/%,$(wildcard hls/tb/*.cpp))
HLS_CXXFLAGS := -O2 -std=c++17 -fPIC -pthread -Wall -Wextra -Wno-unknown-pragmas -Wno-unused-label -I$(GEN_INC) -Ihls
HLS_LIB := build/libbitweave_hls.so

csim: $(HLS_LIB) $(HLS_TB)

$(GEN_INC)/bitweave_array.h: dist/host/array/write-headers.js dist/host/array/header.js dist/host/array/params.js dist/host/array/limits.js
	@node dist/host/array/write-headers.js $(GEN_INC)

$(HLS_LIB): $(HLS_DEPS)
	$(CXX) $(HLS_CXXFLAGS) -shared -o $@ hls/bitweave_array.cpp hls/csim/bw_hls_csim.cpp

build/hls/tb_%: hls/tb/tb_%.cpp hls/tb/tb_common.h $(HLS_DEPS)
	@mkdir -p build/hls
	$(CXX) $(HLS_CXXFLAGS) -o $@ $< $(if $(filter kernel,$*),hls/bitweave_array.cpp)

test: build
	@$(NPX) mocha

# slow suites (full-dataset runs); not part of `make test`
test-long: build
	@BITWEAVE_LONG=1 $(NPX) mocha

# The shipped reference models (models/*.bnn + cards), trained by bitweave itself on
# Fashion-MNIST. Seeded and single-configuration (2 wasm threads) so the .bnn files are
# reproducible; niced because it runs for a while (see the cards for times).
MODEL_TRAIN := nice -n 10 node bin/bitweave.js train --dataset fashion-mnist --seed 1 --threads 2
models: build
	@mkdir -p models
	$(MODEL_TRAIN) --arch mlp --epochs 8 --no-bmxnet -o models/fashion-mlp.bnn --card models/fashion-mlp.md
	$(MODEL_TRAIN) --arch cnn --epochs 4 --lr-schedule cosine -o models/fashion-cnn.bnn --card models/fashion-cnn.md

demo: build
	@./scripts/demo.sh

# A 32-bit ARM (armhf) userland in .arm32/ (git-ignored): Debian's armhf Node, ocl-icd and
# PoCL plus koffi's armhf prebuild, run by qemu-user; `make test-long` then runs the OpenCL
# path on it (test/arm32/). See docs/DEPLOY.md, "32-bit ARM hosts (DE10-Nano)".
arm32:
	@./scripts/arm32/setup.sh

clean:
	rm -rf dist build

# ---- RTL array (sim/, docs/ARCHITECTURE.md "RTL array") --------------------------------
# The Verilator model as a shared library (loaded through koffi by the `verilator`
# backend), yosys resource estimates and the open iCE40 bitstream flow. The array
# parameters come from the generated headers (host/array/header.ts), written into
# build/rtl by host/array/write-headers.ts.
RTL_SV := $(shell grep -v '^//' sim/bw_top.f)
RTL_DIR := build/rtl
RTL_LIB := build/libbitweave_rtl.so
# Build parameters (MAX_OUT_BITS, PDEPTH, TS, DRAIN) default to host/array/limits.ts through
# the generated package; a variant may set DRAIN (output columns leaving the array per cycle,
# 0 = COLS) on the command line.
RTL_TOP_PARAMS := $(if $(DRAIN),DRAIN=$(DRAIN))
.PHONY: rtl rtl-lint rtl-variant synth bitstream

rtl: $(RTL_LIB)

$(RTL_DIR)/bitweave_array.svh: dist/host/array/write-headers.js dist/host/array/header.js dist/host/array/params.js dist/host/array/limits.js
	@node dist/host/array/write-headers.js $(RTL_DIR)

dist/host/array/%.js: host/array/%.ts
	@$(NPX) tsc -p tsconfig.json

$(RTL_DIR)/obj/Vbw_top__ALL.a: $(RTL_SV) $(RTL_DIR)/bitweave_array.svh
	nice verilator --cc -O3 --x-assign fast --x-initial fast --noassert --trace-fst -Wno-fatal \
	  $(addprefix -G,$(RTL_TOP_PARAMS)) --top-module bw_top -I$(RTL_DIR) -Mdir $(RTL_DIR)/obj \
	  -CFLAGS "-fPIC -O2" --build -j 2 $(RTL_DIR)/bitweave_array.svh $(RTL_SV) >/dev/null

VL_INC := $(shell verilator --getenv VERILATOR_ROOT 2>/dev/null)/include
RTL_CXXFLAGS := -O2 -fPIC -std=c++17 -I$(RTL_DIR) -I$(RTL_DIR)/obj -I$(VL_INC) -I$(VL_INC)/vltstd

# the Verilator runtime, compiled once with -fPIC
$(RTL_DIR)/vl/%.o: $(VL_INC)/%.cpp
	@mkdir -p $(RTL_DIR)/vl
	nice $(CXX) $(RTL_CXXFLAGS) -c $< -o $@

$(RTL_LIB): sim/bw_rtl.cpp sim/bw_rtl.h $(RTL_DIR)/obj/Vbw_top__ALL.a $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o
	nice $(CXX) $(RTL_CXXFLAGS) $(addprefix -DBW_RTL_,$(RTL_TOP_PARAMS)) -shared -o $@ sim/bw_rtl.cpp \
	  $(RTL_DIR)/obj/Vbw_top__ALL.a $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o -lz -lpthread

# the RTL kernel behind AXI (sim/axi/, host/array/axi-kernel.ts) with a DDR model behind its
# masters and an AXI4-Lite driver: build/libbitweave_axi.so, the axi-sim backend's model
AXI_DIR := build/axi
AXI_LIB := build/libbitweave_axi.so
AXI_SV := $(RTL_SV) $(shell grep -v '^//' sim/axi/bw_axi_kernel.f)
.PHONY: axi-sim
axi-sim: $(AXI_LIB)

$(AXI_DIR)/bitweave_array.svh: dist/host/array/write-headers.js dist/host/array/header.js dist/host/array/params.js dist/host/array/limits.js dist/host/array/axi-kernel.js
	@node dist/host/array/write-headers.js $(AXI_DIR)

$(AXI_DIR)/obj/Vbw_axi_kernel__ALL.a: $(AXI_SV) $(AXI_DIR)/bitweave_array.svh
	nice verilator --cc -O3 --x-assign fast --x-initial fast --noassert --trace-fst -Wno-fatal \
	  --top-module bw_axi_kernel -I$(AXI_DIR) -Mdir $(AXI_DIR)/obj \
	  -CFLAGS "-fPIC -O2" --build -j 2 $(AXI_DIR)/bitweave_array.svh $(AXI_SV) >/dev/null

$(AXI_LIB): sim/axi/bw_axi_sim.cpp sim/axi/bw_axi_sim.h $(AXI_DIR)/obj/Vbw_axi_kernel__ALL.a $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o
	nice $(CXX) -O2 -fPIC -std=c++17 -I$(AXI_DIR) -I$(AXI_DIR)/obj -I$(VL_INC) -I$(VL_INC)/vltstd -Isim/axi -shared -o $@ sim/axi/bw_axi_sim.cpp \
	  $(AXI_DIR)/obj/Vbw_axi_kernel__ALL.a $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o -lz -lpthread

# the same at another array size, for `bitweave project` on a board with that array:
#   make axi-variant ROWS=32 COLS=32 -> build/axi-32x32/libbitweave_axi.so
AXI_VARIANT = build/axi-$(ROWS)x$(COLS)
.PHONY: axi-variant
axi-variant: $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o
	@test -n "$(ROWS)" -a -n "$(COLS)" || { echo "give ROWS=.. COLS=.."; exit 1; }
	@mkdir -p $(AXI_VARIANT)
	node dist/host/array/write-headers.js $(AXI_VARIANT) $(ROWS) $(COLS)
	nice verilator --cc -O3 --x-assign fast --x-initial fast --noassert --trace-fst -Wno-fatal \
	  --top-module bw_axi_kernel -I$(AXI_VARIANT) -Mdir $(AXI_VARIANT)/obj \
	  -CFLAGS "-fPIC -O2" --build -j 2 $(AXI_VARIANT)/bitweave_array.svh $(AXI_SV) >/dev/null
	nice $(CXX) -O2 -fPIC -std=c++17 -I$(AXI_VARIANT) -I$(AXI_VARIANT)/obj -I$(VL_INC) -I$(VL_INC)/vltstd -Isim/axi -shared -o $(AXI_VARIANT)/libbitweave_axi.so sim/axi/bw_axi_sim.cpp \
	  $(AXI_VARIANT)/obj/Vbw_axi_kernel__ALL.a $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o -lz -lpthread

# yosys resource estimates (build/synth/summary.{json,txt})
synth: build
	@./sim/synth.sh build/synth

# logic depth (yosys sta, cell delays only, no routing; README "Clock"): the array in the
# kernel's build at 4x4 and the whole kernel at 2x2 (build/sta/sta-*.json)
.PHONY: sta
sta: build
	@./sim/sta.sh build/sta bw_top 4 4
	@./sim/sta.sh build/sta bw_axi_kernel 2 2

# the RTL kernel behind AXI beside the array (build/synth-axi/axi.json)
.PHONY: synth-axi
synth-axi: build
	@./sim/axi/synth-axi.sh build/synth-axi

# the open bitstream flow of a board with one (boards/<board>.json "flow"; host/build/open-flow.ts):
#   make bitstream BOARD=icebreaker | BOARD=ulx3s [MHZ=<target clock>] [ROWS=r COLS=c]
# -> build/bitstream/<board>/: the bitstream, report.json, the synthesised netlist (design.json,
#    netlist.v) and the tools' logs; ROWS/COLS (a sizing trial) -> build/bitstream/<board>-<r>x<c>/
BOARD ?= icebreaker
bitstream: build
	@node dist/host/build/open-flow.js $(BOARD) build/bitstream/$(BOARD)$(if $(ROWS),-$(ROWS)x$(COLS)) $(if $(MHZ),--mhz $(MHZ)) $(if $(ROWS),--rows $(ROWS) --cols $(COLS))

# The whole dev-board SoC (sim/soc: array + memories + UART link) under Verilator behind a
# pty: build/soc/bitweave-soc-sim (host/board/sim.ts starts it; docs/BOARD-PROTOCOL.md).
# Simulated at 4 clocks per UART bit and a 2^16-cycle link timeout, so a test moves
# frames quickly; the array size is the simulated board's (SOC_ROWS x SOC_COLS).
SOC_ROWS ?= 4
SOC_COLS ?= 4
SOC_DIR := build/soc
SOC_SV := $(RTL_SV) $(shell grep -v '^//' sim/soc/bw_soc.f)
SOC_PARAMS := CLK_HZ=50000000 BAUD=12500000 TIMEOUT=65536 WEIGHT_ROWS=6144 ARENA_WORDS=16384
SOC_SIM := $(SOC_DIR)/bitweave-soc-sim
.PHONY: soc-sim
soc-sim: $(SOC_SIM)

$(SOC_DIR)/bitweave_array.svh: dist/host/array/write-headers.js dist/host/array/header.js dist/host/array/params.js dist/host/array/limits.js
	@node dist/host/array/write-headers.js $(SOC_DIR) $(SOC_ROWS) $(SOC_COLS)

$(SOC_SIM): $(SOC_SV) sim/soc/bw_soc_sim.cpp $(SOC_DIR)/bitweave_array.svh
	nice verilator --cc --exe -O3 --x-assign fast --x-initial fast --noassert --trace-fst -Wno-fatal \
	  $(addprefix -G,$(SOC_PARAMS)) --top-module bw_soc -I$(SOC_DIR) -Mdir $(SOC_DIR)/obj \
	  -CFLAGS "-O2 -DBW_SOC_CLKS_PER_BIT=4 -DBW_SOC_TIMEOUT=65536" -o bitweave-soc-sim --build -j 2 \
	  $(SOC_DIR)/bitweave_array.svh $(SOC_SV) $(abspath sim/soc/bw_soc_sim.cpp) >/dev/null
	@cp $(SOC_DIR)/obj/bitweave-soc-sim $@.tmp && mv -f $@.tmp $@  # a running copy keeps its file

# the model at another array size, for tests of the parameterisation:
#   make rtl-variant ROWS=4 COLS=16 [DRAIN=d]; BITWEAVE_RTL_LIB=build/rtl-4x16[-dd]/libbitweave_rtl.so npx mocha ...
VARIANT = build/rtl-$(ROWS)x$(COLS)$(if $(filter-out 0,$(DRAIN)),-d$(DRAIN))
rtl-variant: $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o
	@test -n "$(ROWS)" -a -n "$(COLS)" || { echo "give ROWS=.. COLS=.."; exit 1; }
	@mkdir -p $(VARIANT)
	node dist/host/array/write-headers.js $(VARIANT) $(ROWS) $(COLS)
	nice verilator --cc -O3 --x-assign fast --x-initial fast --noassert --trace-fst -Wno-fatal \
	  $(addprefix -G,$(RTL_TOP_PARAMS)) --top-module bw_top -I$(VARIANT) -Mdir $(VARIANT)/obj \
	  -CFLAGS "-fPIC -O2" --build -j 2 $(VARIANT)/bitweave_array.svh $(RTL_SV) >/dev/null
	nice $(CXX) $(subst -I$(RTL_DIR) ,-I$(VARIANT) -I$(VARIANT)/obj ,$(RTL_CXXFLAGS)) $(addprefix -DBW_RTL_,$(RTL_TOP_PARAMS)) \
	  -shared -o $(VARIANT)/libbitweave_rtl.so sim/bw_rtl.cpp $(VARIANT)/obj/Vbw_top__ALL.a \
	  $(RTL_DIR)/vl/verilated.o $(RTL_DIR)/vl/verilated_fst_c.o $(RTL_DIR)/vl/verilated_threads.o -lz -lpthread

rtl-lint: $(RTL_DIR)/bitweave_array.svh
	verilator --lint-only -Wall -I$(RTL_DIR) $(RTL_DIR)/bitweave_array.svh $(RTL_SV) --top-module bw_top
	verilator --lint-only -Wall -I$(RTL_DIR) $(RTL_DIR)/bitweave_array.svh $(AXI_SV) --top-module bw_axi_kernel
	verilator --lint-only -Wall -I$(RTL_DIR) $(RTL_DIR)/bitweave_array.svh sim/bw_pe.sv sim/bw_pe_array.sv sim/ice40/bw_ice40_selftest.sv --top-module bw_ice40_selftest

# ---- gate level (sim/gate, docs/ARCHITECTURE.md "Gate-level checks") --------------------
# The post-synthesis ECP5 netlist (yosys synth_ecp5) as a Verilator model with the RTL's
# top and ports, for C++ harnesses written against the RTL model:
#   make gate [GATE_ROWS=2 GATE_COLS=2] [GATE_PARAMS="NAME=VALUE ..."] [NODSP=1]
# (parameters default to the generated package's, as in the RTL library) writes
# build/gate/bw_top-RxC[-nodsp]/: netlist.json (for nextpnr-ecp5), netlist.v, cells.txt,
# obj/Vbw_top.h + obj/Vbw_top__ALL.a. `make gate-ebr` lists the cells of each block-RAM
# pattern of sim/gate/ebr/ebr_lane.sv; `make gate-test` runs test/sim/gate.test.ts with the
# long checks (bw_pe_array 2x2 and 4x4, every block-RAM pattern, bw_top with a layer program).
GATE_ROWS ?= 2
GATE_COLS ?= 2
GATE_PARAMS ?=
GATE_DIR = build/gate/bw_top-$(GATE_ROWS)x$(GATE_COLS)$(if $(NODSP),-nodsp)
.PHONY: gate gate-ebr gate-test gate-soc-test

gate: dist/host/array/write-headers.js
	@mkdir -p $(GATE_DIR)/hdr
	node dist/host/array/write-headers.js $(GATE_DIR)/hdr $(GATE_ROWS) $(GATE_COLS)
	sim/gate/gate.sh $(if $(NODSP),--nodsp) -I $(GATE_DIR)/hdr $(addprefix -G ,$(GATE_PARAMS)) -f sim/bw_top.f \
	  bw_top $(GATE_DIR) $(GATE_DIR)/hdr/bitweave_array.svh

gate-ebr:
	@for v in 0 1 2 3 4 5 6 7 8; do printf 'pattern %s: ' $$v; \
	  sim/gate/gate.sh --no-build -G VARIANT=$$v ebr_top build/gate/ebr$$v sim/gate/ebr/ebr_lane.sv | sed 's/.*cells //'; done

gate-test: build
	BITWEAVE_LONG=1 $(NPX) mocha --no-config --timeout 3600000 dist/test/sim/gate.test.js

# The whole SoC at gate level: the netlist `make bitstream BOARD=ulx3s` placed and routed, under
# Verilator behind the pty harness (sim/gate/soc-gate.sh -> build/gate/soc-ulx3s/bitweave-soc-gate),
# 20 Fashion-MNIST images through the board backend against the reference (BITWEAVE_GATE_IMAGES=n).
gate-soc-test: build
	BITWEAVE_LONG=1 $(NPX) mocha --no-config --timeout 0 dist/test/sim/gate-soc.test.js
