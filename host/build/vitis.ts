/**
 * Vitis project emitter: everything needed to build the array for a Xilinx board and run a
 * compiled model on it, in one self-contained directory. Two kernels: the RTL array as a
 * Vitis RTL kernel (`kernel: 'rtl'`, the default; host/build/vitis-rtl.ts) or the HLS
 * kernel (`kernel: 'hls'`).
 *
 *   rtl/, kernel.xml,       (rtl) the SystemVerilog sources and the generated package; the kernel
 *   package_xo.tcl          description and the Vivado script that packages bitweave_array.xo
 *   kernel/, run_hls.tcl    (hls) the HLS sources (copied from hls/) + bitweave_array.h generated
 *                           for the board's array size; kernel/tb/ the C-simulation bench;
 *                           vitis_hls: csim, csynth, cosim, export (.xo)
 *   bitweave_array.cfg      v++ config: [connectivity] nk=, sp= per m_axi port, slr= per compute unit
 *   Makefile                TARGET=sw_emu (hls only)|hw_emu|hw: xo (vivado or v++ -c), v++ -l,
 *                           emconfigutil, run; on AWS F1 also afi (create_vitis_afi.sh) and afi-wait
 *   wait_afi.sh             (aws-f1) polls describe-fpga-images until the AFI is available
 *   model/<name>.bnn        the compiled model the host runs
 *   bitweave-build.json     what was emitted (kernel, ports, banks, compute units, files with SHA-256)
 *   README.md               the exact steps
 *
 * Nothing here runs Vitis: the tools are not needed to emit, only to build.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board } from '../boards';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { encodeSegment } from '../array/program';
import { targetModel } from '../array/zero-pad';
import { arrayHeaderC } from '../array/header';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { checkProgram, hlsLimits } from '../array/descriptor';
import { hlsTopSource, hlsKernelAbi, KERNEL_NAME, kernelPorts, KernelPort } from '../array/abi';
import { hlsDir } from '../array/sources';
import { encodeBnn } from '../format/bnn';
import { manifestName, ProjectFiles, writeProject } from './project';
import { xcupCostPerPE } from '../array/resources';
import { ARRAY_FRACTION, boardArray, boardKernelBuild, boardSlrs, kernelSlrs } from './sizing';
import { slrRam } from './kernel-ram';
import { AXI_KERNEL_ARGS, AxiKernelBuild, DEFAULT_AXI_BUILD } from '../array/axi-kernel';
import { checkRtlKernelModel, rtlKernelFiles } from './vitis-rtl';
import { packagePath } from '../core/paths';

/** The kernels a Vitis project can build. */
export const VITIS_KERNELS = ['rtl', 'hls'] as const;
export type VitisKernel = (typeof VITIS_KERNELS)[number];

/** The kernel option checked: 'rtl' (default) or 'hls', else one line. */
export function vitisKernel(k: string | undefined): VitisKernel {
  if (k === undefined) return 'rtl';
  if (!(VITIS_KERNELS as readonly string[]).includes(k)) throw new BitweaveError(`--kernel must be rtl or hls, got '${k}'`);
  return k as VitisKernel;
}

export interface VitisOptions {
  /** The kernel: the RTL array as an RTL kernel (default) or the HLS kernel. */
  kernel?: VitisKernel;
  /** The RTL kernel's build (default: memories fitted to one SLR's RAM, boardKernelBuild; DEFAULT_AXI_BUILD for a board without RAM figures). */
  axiBuild?: AxiKernelBuild;
  /** The RTL kernel's file lists, relative to the package root (default sim/bw_top.f, sim/axi/bw_axi_kernel.f). */
  rtlFileLists?: string[];
  /** The command that runs bitweave in the emitted Makefile (default: node + this bitweave's bin/bitweave.js). */
  bitweaveCommand?: string;
  /** PE array (default: `boardArray`, sized from the recorded yosys per-PE cost). */
  array?: { rows: number; cols: number };
  /** How `array` was chosen (default: boardArray's note). */
  arrayNote?: string;
  /** Compute units (default: estimated from the board's LUTs and memory banks). */
  computeUnits?: number;
  /** File name of the model in model/ (default: the model's name). */
  modelName?: string;
  /** Replace an earlier build in outDir (never a directory bitweave did not write). */
  force?: boolean;
}

export interface VitisProject {
  dir: string;
  board: string;
  platform: string;
  /** The kernel's name (bitweave_array). */
  kernelName: string;
  /** Which kernel the project builds. */
  kernel: VitisKernel;
  /** How the array size was chosen. */
  arrayNote: string;
  array: ArrayParams;
  computeUnits: number;
  /** Per compute unit: kernel argument -> memory bank, and its SLR where the board has several. */
  connectivity: { cu: string; sp: Record<string, string>; slr?: string }[];
  ports: KernelPort[];
  /** The RTL kernel's build (rtl only). */
  axiBuild?: AxiKernelBuild;
  /** Emitted files, relative to dir. */
  files: string[];
  model: string;
  notes: string[];
}

/** LUTs per CU besides the PEs (feeders, sequencer, AXI masters): an assumption, not a synthesis result. */
export const LUT_PER_CU = 25000;
/** Fraction of the device's LUTs the kernels may take (the platform shell and routing need the rest). */
export const LUT_BUDGET = 0.5;

/** Bank names of a board, expanding 'HBM[0]', '...', 'HBM[31]' style lists. */
export function boardBanks(board: Board): string[] {
  const names = board.memory.bankNames;
  if (!names.includes('...')) return names;
  const m = /^([A-Za-z]+)\[(\d+)\]$/.exec(names[0]);
  if (!m) throw new BitweaveError(`board ${board.name}: cannot expand memory.bankNames ${JSON.stringify(names)}`);
  return Array.from({ length: board.memory.banks }, (_, i) => `${m[1]}[${Number(m[2]) + i}]`);
}

/**
 * Compute units that fit the LUT budget and the memory banks (each CU gets banks of its
 * own). On a board with SLRs (boards/*.json `slrs`) one CU per SLR without the shell, when
 * the array fits 60% of one SLR's LUTs (as boardArray sizes it); otherwise the whole
 * device's LUTs at LUT_BUDGET.
 */
export function estimateComputeUnits(board: Board, array: { rows: number; cols: number }, bundles: number): number {
  // per PE: the RTL's yosys figure (resources.ts), a stand-in for the HLS kernel's
  const pes = array.rows * array.cols * xcupCostPerPE().lut;
  const lut = board.resources?.lut ?? 0;
  const slrs = kernelSlrs(board);
  const slrCount = boardSlrs(board)?.count ?? 1;
  const byLut = slrs.length > 0 ? (pes <= (lut / slrCount) * ARRAY_FRACTION ? slrs.length : 1) : Math.floor((lut * LUT_BUDGET) / (pes + LUT_PER_CU));
  const banks = board.memory.banks;
  const perCuBanks = Math.min(bundles, banks >= 2 * bundles ? bundles : 2);
  const byBanks = Math.max(1, Math.floor(banks / perCuBanks));
  return Math.max(1, Math.min(byLut, byBanks, 16));
}

/**
 * Memory banks per compute unit: the CU's bundles on its own banks, the activation arena
 * first (it is read and written every layer), then weights, then program + params.
 */
function assignBanks(ports: KernelPort[], banks: string[], cus: number, slrs: string[]): { cu: string; sp: Record<string, string>; slr?: string }[] {
  const bundles = [...new Set(ports.map((p) => p.bundle))];
  const rank = (b: string) => {
    const args = ports.filter((p) => p.bundle === b).map((p) => p.arg);
    return args.includes('arena') ? 0 : args.includes('weights') ? 1 : 2;
  };
  bundles.sort((a, b) => rank(a) - rank(b));
  const perCu = Math.max(1, Math.min(bundles.length, Math.floor(banks.length / cus)));
  return Array.from({ length: cus }, (_, i) => {
    const sp: Record<string, string> = {};
    bundles.forEach((b, j) => {
      const bank = banks[(i * perCu + (j % perCu)) % banks.length];
      for (const p of ports) if (p.bundle === b) sp[p.arg] = bank;
    });
    return { cu: `${KERNEL_NAME}_${i + 1}`, sp, ...(slrs.length ? { slr: slrs[i % slrs.length] } : {}) };
  });
}

/** Layers that exceed the kernel's buffers or accumulator: one clear error before anything is written. */
function checkHlsModelFits(source: CompiledModel, array: ArrayParams): void {
  // the segments as the host runs them (cut where a tensor is read in both forms)
  const model = targetModel(source, hlsLimits(array).maxOutBits);
  model.segments.forEach((s, si) => {
    if (s.kind !== 'device') return;
    const p = encodeSegment(model, si, array);
    const buffers = { weightWords: p.weights.length / 2, paramEntries: p.params.length, arenaWords: p.arenaWords };
    checkProgram(p.descriptors, p.layers, hlsLimits(array), buffers, 'Vitis build', (l) => `layer '${model.opNames[s.start + l]}'`);
  });
}

function runHlsTcl(board: Board, array: ArrayParams): string {
  const period = (1000 / (board.clock.kernelMHz ?? 300)).toFixed(3);
  return `# vitis_hls -f run_hls.tcl  (emitted by bitweave for ${board.name})
# Steps: csim csynth cosim export (all by default); choose with HLS_STEPS, e.g.
#   HLS_STEPS="csim csynth" vitis_hls -f run_hls.tcl
# Array ${array.rows}x${array.cols}x${array.word}, part ${board.part}, ${board.clock.kernelMHz} MHz target.
set steps "csim csynth cosim export"
if {[info exists ::env(HLS_STEPS)]} { set steps $::env(HLS_STEPS) }

open_project -reset hls_${KERNEL_NAME}
set_top ${KERNEL_NAME}
add_files kernel/${KERNEL_NAME}.cpp -cflags "-Ikernel -std=c++14"
add_files -tb kernel/tb/tb_kernel.cpp -cflags "-Ikernel -std=c++14"
open_solution -reset solution -flow_target vitis
set_part {${board.part}}
create_clock -period ${period} -name default

if {[lsearch $steps csim] >= 0}   { csim_design }
if {[lsearch $steps csynth] >= 0} { csynth_design }
if {[lsearch $steps cosim] >= 0}  { cosim_design }
if {[lsearch $steps export] >= 0} { export_design -format xo -output ${KERNEL_NAME}.xo }
exit
`;
}

function vppConfig(board: Board, kernel: VitisKernel, cus: number, conn: VitisProject['connectivity']): string {
  const lines = [
    `# v++ configuration (emitted by bitweave for ${board.name}, ${kernel} kernel); the Makefile passes it to v++ -l${kernel === 'hls' ? ' and v++ -c' : ''}`,
    '# the platform comes from the command line: v++ --platform $(PLATFORM) (see the Makefile)',
    '',
    '[connectivity]',
    `# ${cus} compute unit${cus > 1 ? 's' : ''} of ${KERNEL_NAME}`,
    `nk=${KERNEL_NAME}:${cus}:${conn.map((c) => c.cu).join('.')}`,
    '# every m_axi port of every compute unit on a memory bank of the board',
  ];
  for (const c of conn) for (const [arg, bank] of Object.entries(c.sp)) lines.push(`sp=${c.cu}.${arg}:${bank}`);
  if (conn.some((c) => c.slr)) {
    lines.push('# one compute unit per SLR without the platform shell (UG1393: assign kernels to SLRs with slr=)');
    for (const c of conn) if (c.slr) lines.push(`slr=${c.cu}:${c.slr}`);
  }
  return lines.join('\n') + '\n';
}

/** Quotes a word for a POSIX shell (the Makefile's recipes). */
const shq = (s: string) => (/^[\w./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command the emitted Makefile runs bitweave with: this bitweave's CLI under this node. */
export function defaultBitweaveCommand(): string {
  return `${shq(process.execPath)} ${shq(packagePath('bin', 'bitweave.js'))}`;
}

function makefile(board: Board, kernel: VitisKernel, model: string, bitweave: string): string {
  const f1 = board.name === 'aws-f1';
  const rtl = kernel === 'rtl';
  const targets = rtl ? 'hw_emu|hw' : 'sw_emu|hw_emu|hw';
  const build = f1 ? "'make TARGET=hw xclbin afi' on a build instance" : "'make TARGET=$(TARGET) xclbin'";
  return `# bitweave Vitis project for ${board.name}, ${rtl ? 'the RTL array as an RTL kernel' : 'the HLS kernel'}.
# make TARGET=${targets} [xo|xclbin|emconfig|run${f1 ? '|afi|afi-wait' : ''}]   -- see README.md
TARGET ?= hw
KERNEL := ${KERNEL_NAME}
BUILD := build/$(TARGET)
XO := ${rtl ? 'build/$(KERNEL).xo' : '$(BUILD)/$(KERNEL).xo'}
XCLBIN := $(BUILD)/$(KERNEL).xclbin
MODEL := model/${model}
${f1 ? `# the F1 platform (${board.platform}): AWS_PLATFORM, the path of its .xpfm, which
# $AWS_FPGA_REPO_DIR/vitis_setup.sh sets (aws-fpga branch f1_xdma_shell; no aws-fpga script sets PLATFORM_REPO_PATHS)
PLATFORM ?= $(AWS_PLATFORM)` : `# the platform: its name (found through PLATFORM_REPO_PATHS or /opt/xilinx/platforms) or the path of its .xpfm
PLATFORM ?= ${board.platform}`}
# the bitweave CLI that emitted this project (override: make run BITWEAVE='npx bitweave')
BITWEAVE ?= ${bitweave}
VPP_FLAGS := -t $(TARGET) --platform $(PLATFORM) --config $(KERNEL).cfg --save-temps --temp_dir $(BUILD)/tmp
${rtl ? 'RTL_SRC := $(wildcard rtl/*.sv rtl/*.svh)' : 'KERNEL_SRC := $(wildcard kernel/*.h kernel/*.cpp)'}
ifeq ($(filter $(TARGET),${targets.replace(/\|/g, ' ')}),)
$(error TARGET must be ${targets.replace(/\|/g, ', ')} (got '$(TARGET)')${rtl ? ': an RTL kernel has no software emulation (UG1393); the HLS kernel (--kernel hls) has' : ''})
endif
${f1 ? `
# AFI creation (AWS F1): an S3 bucket you own and keys (folders) for the DCP and the logs
S3_BUCKET ?=
S3_DCP_KEY ?= bitweave/dcp
S3_LOGS_KEY ?= bitweave/logs
AFI_TOOL ?= $(AWS_FPGA_REPO_DIR)/Vitis/tools/create_vitis_afi.sh
AWSXCLBIN := $(BUILD)/$(KERNEL).awsxclbin
` : ''}
.PHONY: all xo xclbin emconfig run check-target${rtl ? '' : ' hls'}${f1 ? ' afi afi-wait' : ''}
all: xclbin

check-target:
\t@command -v v++ >/dev/null || { echo "v++ not found: source the Vitis settings64.sh${f1 ? ' (on the FPGA Developer AMI: source $$AWS_FPGA_REPO_DIR/vitis_setup.sh)' : ''}" >&2; exit 1; }
\t@test -n "$(PLATFORM)" || { echo "${f1 ? 'AWS_PLATFORM is not set: git clone -b f1_xdma_shell https://github.com/aws/aws-fpga.git and source its vitis_setup.sh' : 'PLATFORM is empty'}" >&2; exit 1; }
${rtl ? `
# the RTL kernel: Vivado packages the sources as an IP and the IP as $(XO) (package_xo.tcl)
xo: $(XO)
$(XO): $(RTL_SRC) kernel.xml package_xo.tcl
\t@command -v vivado >/dev/null || { echo "vivado not found: source the Vitis / Vivado settings64.sh${f1 ? ' (vitis_setup.sh on the FPGA Developer AMI)' : ''}" >&2; exit 1; }
\t@mkdir -p $(dir $@)
\tvivado -mode batch -nojournal -nolog -source package_xo.tcl -tclargs $@
` : `
# vitis_hls only: C-simulation, synthesis and co-simulation reports of the kernel
hls:
\tvitis_hls -f run_hls.tcl

xo: $(XO)
$(XO): $(KERNEL_SRC) $(KERNEL).cfg | check-target
\t@mkdir -p $(BUILD)
\tv++ -c $(VPP_FLAGS) -k $(KERNEL) -I kernel -o $@ kernel/$(KERNEL).cpp
`}
xclbin: $(XCLBIN)
$(XCLBIN): $(XO) $(KERNEL).cfg | check-target
\t@mkdir -p $(BUILD)
\tv++ -l $(VPP_FLAGS) -o $@ $(XO)

# emulation targets need emconfig.json next to the host run
emconfig: $(BUILD)/emconfig.json
$(BUILD)/emconfig.json:
\t@mkdir -p $(BUILD)
\temconfigutil --platform $(PLATFORM) --od $(BUILD)

# run the model: emulation through XCL_EMULATION_MODE, hardware on the board. The binary is
# not a prerequisite: on a runtime instance that has only it, run never tries to rebuild it.
ifeq ($(TARGET),hw)
RUN_BINARY := ${f1 ? '$(AWSXCLBIN)' : '$(XCLBIN)'}
RUN_ENV :=
else
RUN_BINARY := $(XCLBIN)
RUN_ENV := XCL_EMULATION_MODE=$(TARGET) EMCONFIG_PATH=$(BUILD)
endif
run: $(if $(filter hw,$(TARGET)),,emconfig)
\t@test -f $(RUN_BINARY) || { echo "$(RUN_BINARY) not found: build it first (${build})" >&2; exit 1; }
\t$(RUN_ENV) BITWEAVE_OPENCL_BINARY=$(RUN_BINARY) BITWEAVE_OPENCL_BUILD=bitweave-build.json $(BITWEAVE) eval $(MODEL) --dataset fashion-mnist --limit $(if $(filter hw,$(TARGET)),10000,20) --backend opencl
${f1 ? `
# register the xclbin as an Amazon FPGA Image: writes $(AWSXCLBIN) and *_afi_id.txt
afi: $(AWSXCLBIN)
$(AWSXCLBIN): $(XCLBIN)
\t@test "$(TARGET)" = hw || { echo "an AFI needs TARGET=hw" >&2; exit 1; }
\t@test -n "$(S3_BUCKET)" || { echo "set S3_BUCKET=<your bucket> (create_vitis_afi.sh uploads the DCP there)" >&2; exit 1; }
\t@test -x "$(AFI_TOOL)" || { echo "create_vitis_afi.sh not found at $(AFI_TOOL): git clone -b f1_xdma_shell https://github.com/aws/aws-fpga.git and source its vitis_setup.sh" >&2; exit 1; }
\tcd $(BUILD) && $(AFI_TOOL) -xclbin=$(KERNEL).xclbin -o=$(KERNEL) -s3_bucket=$(S3_BUCKET) -s3_dcp_key=$(S3_DCP_KEY) -s3_logs_key=$(S3_LOGS_KEY)

# wait until the AFI is 'available' (bitstream generation takes tens of minutes)
afi-wait:
\t./wait_afi.sh $(BUILD)
` : ''}`;
}

const WAIT_AFI = `#!/usr/bin/env bash
# wait_afi.sh <dir>: polls 'aws ec2 describe-fpga-images' for the AFI that
# create_vitis_afi.sh recorded in <dir>/*_afi_id.txt until it is 'available'.
# Exits 1 when it is 'failed' or 'unavailable', or when aws / the id file is missing.
set -euo pipefail
dir="\${1:-.}"
interval="\${AFI_POLL_SECONDS:-60}"
command -v aws >/dev/null || { echo "aws CLI not found (install it and run 'aws configure')" >&2; exit 1; }
idfile="$(ls -t "$dir"/*_afi_id.txt 2>/dev/null | head -n 1 || true)"
[ -n "$idfile" ] || { echo "no *_afi_id.txt in $dir: run 'make afi' first" >&2; exit 1; }
afi="$(grep -o 'afi-[0-9a-f]*' "$idfile" | head -n 1)"
[ -n "$afi" ] || { echo "$idfile holds no FpgaImageId" >&2; exit 1; }
while true; do
  state="$(aws ec2 describe-fpga-images --fpga-image-ids "$afi" --query 'FpgaImages[0].State.Code' --output text)"
  echo "$(date -u +%H:%M:%S) $afi: $state"
  case "$state" in
    available) exit 0 ;;
    failed|unavailable)
      aws ec2 describe-fpga-images --fpga-image-ids "$afi" --query 'FpgaImages[0].State.Message' --output text >&2 || true
      exit 1 ;;
  esac
  sleep "$interval"
done
`;

function readme(p: VitisProject, board: Board): string {
  const f1 = board.name === 'aws-f1';
  const rtl = p.kernel === 'rtl';
  const a = p.array;
  const placement = p.connectivity.map((c) => `- ${c.cu}${c.slr ? ` in ${c.slr}` : ''}: ${Object.entries(c.sp).map(([k, v]) => `${k} → ${v}`).join(', ')}`).join('\n');
  const slrs = boardSlrs(board);
  const kernelRows = rtl
    ? `| \`rtl/\` | the RTL array's SystemVerilog sources (compile order in \`package_xo.tcl\`) and \`bitweave_array.svh\`, the array package generated for ${a.rows} x ${a.cols} PEs |
| \`kernel.xml\` | the RTL kernel's description: AXI4-Lite control \`s_axi_control\` (ap_ctrl_hs, arguments from 0x10), masters ${[...new Set(AXI_KERNEL_ARGS.filter((x) => x.master).map((x) => `\`${x.master}\``))].join(', ')} |
| \`package_xo.tcl\` | \`vivado -mode batch -source package_xo.tcl -tclargs build/${KERNEL_NAME}.xo\`: the IP (ipx::) and \`package_xo\` |`
    : `| \`kernel/\` | the HLS kernel (\`${KERNEL_NAME}.cpp\` + one header per block) and \`bitweave_array.h\` generated for this array size |
| \`kernel/tb/\` | C-simulation test bench (random layer programs against a golden model) |
| \`run_hls.tcl\` | \`vitis_hls -f run_hls.tcl\`: csim, csynth, cosim, export |`;
  const emu = rtl
    ? 'make TARGET=hw_emu run                           # hardware emulation (RTL simulation in the platform; slow: 20 images)'
    : 'make TARGET=sw_emu run                           # functional check in software emulation\nmake TARGET=hw_emu run                           # hardware emulation (slow: 20 images)';
  const xo = rtl ? 'make xo                                          # vivado -mode batch -source package_xo.tcl -> build/bitweave_array.xo\n' : '';
  return `# bitweave Vitis project: ${p.model} on ${board.title}

Emitted by \`bitweave\` (host/build/vitis.ts${rtl ? ', host/build/vitis-rtl.ts' : ''}). Kernel: **${rtl ? 'the RTL array as a Vitis RTL kernel' : 'the HLS kernel'}**
(\`"kernel": "${p.kernel}"\` in bitweave-build.json). Platform \`${p.platform}\`, part \`${board.part}\`,
array ${a.rows} x ${a.cols} PEs of ${a.word}-bit words (${p.arrayNote}),
${p.computeUnits} compute unit(s) (an estimate from the board's LUTs, SLRs and memory banks, not a
synthesis result).${rtl ? ` The RTL kernel's array drains one output column per cycle and computes 1-bit
threshold outputs (host/array/axi-kernel.ts AXI_BUILD); models with k-bit outputs need \`--kernel hls\`.` : ''}

Nothing in this directory has been built or run by bitweave itself: it needs AMD ${rtl ? 'Vivado, ' : ''}Vitis and
XRT${f1 ? ' (the AWS FPGA Developer AMI has them) and an AWS account' : ''}.

## Files

| file | what |
|---|---|
${kernelRows}
| \`${KERNEL_NAME}.cfg\` | v++ config: \`nk=\` (compute units), \`sp=\` (port → bank)${slrs ? ', `slr=` (compute unit → SLR)' : ''} |
| \`Makefile\` | \`TARGET=${rtl ? 'hw_emu|hw' : 'sw_emu|hw_emu|hw'}\` builds${f1 ? ', `afi`, `afi-wait`' : ''}, \`run\` |
${f1 ? '| `wait_afi.sh` | polls `aws ec2 describe-fpga-images` until the AFI is `available` |\n' : ''}| \`model/${p.model}\` | the compiled model the host runs |
| \`bitweave-build.json\` | machine-readable summary of the above (kernel, array, connectivity), every file with its SHA-256 |

## Placement and memory

${slrs ? `The ${board.part} has ${slrs.count} SLRs (dies); the platform's shell takes part of ${slrs.shell.map((i) => `SLR${i}`).join(', ')}. The array is
sized to fit one SLR, and each compute unit is placed in its own SLR without the shell (\`slr=\`
in the config): ${slrs.note ?? ''}
` : ''}
${placement}

${p.computeUnits > 1 ? `The units have different banks, so bitweave's host creates one OpenCL kernel object per unit
(\`${KERNEL_NAME}:{${KERNEL_NAME}_1}\`, …) with buffers of its own, and splits each batch between them.

` : ''}The host encodes every layer program for this array (${a.rows} x ${a.cols}): \`make run\` passes
\`BITWEAVE_OPENCL_BUILD=bitweave-build.json\` to bitweave's \`opencl\` backend, which reads the array
size, the kernel and the board's OpenCL device from it.

## Steps

${f1 ? `On a build instance (FPGA Developer AMI, e.g. z1d.2xlarge or c5.4xlarge). aws-fpga's F1 branch is
\`f1_xdma_shell\` (its default branch is for F2 and lacks the Vitis scripts); it supports Vitis 2019.2–2021.2
and 2024.1 and installs the platform \`${board.platform}\`:

\`\`\`sh
git clone -b f1_xdma_shell https://github.com/aws/aws-fpga.git $AWS_FPGA_REPO_DIR
source $AWS_FPGA_REPO_DIR/vitis_setup.sh        # sets AWS_PLATFORM (the .xpfm), XRT; the Makefile uses --platform $(AWS_PLATFORM)
${xo}${emu}
make TARGET=hw xclbin                            # synthesis + implementation (hours)
make TARGET=hw afi S3_BUCKET=<your-bucket>       # create_vitis_afi.sh -> build/hw/${KERNEL_NAME}.awsxclbin
make afi-wait                                    # until the AFI is 'available'
\`\`\`

Copy \`build/hw/${KERNEL_NAME}.awsxclbin\`, \`model/\`, \`Makefile\` and \`bitweave-build.json\` to an F1 instance, then:

\`\`\`sh
source $AWS_FPGA_REPO_DIR/vitis_runtime_setup.sh
make TARGET=hw run          # only runs bitweave: it never rebuilds the .awsxclbin (BITWEAVE=... to choose the CLI)
\`\`\`

\`bitweave deploy --board aws-f1 --kernel ${p.kernel}\` runs the same sequence and stops at the first missing tool or credential.`
    : `With ${rtl ? 'Vivado, ' : ''}Vitis and XRT installed and the platform \`${p.platform}\` installed (or PLATFORM=<path of its .xpfm>):

\`\`\`sh
source <Vitis>/settings64.sh && source /opt/xilinx/xrt/setup.sh
${xo}${emu.replace(/ {27}#/g, ' #')}
make TARGET=hw xclbin         # synthesis + implementation
make TARGET=hw run            # on the card (xbutil examine lists it); never rebuilds the xclbin
\`\`\``}
`;
}

export function emitVitisProject(model: CompiledModel, board: Board, outDir: string, opts: VitisOptions = {}): VitisProject {
  if (board.toolchain.name !== 'vitis') {
    throw new BitweaveError(`board '${board.name}' uses ${board.toolchain.name}, not Vitis: no Vitis project for it`);
  }
  if (!board.part) throw new BitweaveError(`board '${board.name}' has no part`);
  const kernel = vitisKernel(opts.kernel);
  const sized = opts.array ? null : boardArray(board);
  const shape = opts.array ?? sized!;
  const arrayNote = opts.arrayNote ?? (sized ? sized.note : 'given by the caller');
  if (!Number.isInteger(shape.rows) || shape.rows < 1 || shape.rows > 256 || !Number.isInteger(shape.cols) || shape.cols < 1 || shape.cols > 256) {
    throw new BitweaveError(`array must be 1..256 rows x 1..256 cols, got ${shape.rows}x${shape.cols}`);
  }
  const array: ArrayParams = { ...DEFAULT_ARRAY, rows: shape.rows, cols: shape.cols };
  // the RTL kernel's memories sized to one SLR's RAM (the arena is copied per PE column)
  const ramFit = kernel === 'rtl' && !opts.axiBuild ? boardKernelBuild(board, array) : null;
  const listsRam = slrRam(board, 1) !== null;
  if (kernel === 'rtl' && !opts.axiBuild && !ramFit && listsRam) {
    throw new BitweaveError(`--kernel rtl at ${array.rows}x${array.cols}: the kernel's on-chip memories do not fit one SLR's block RAM and UltraRAM of ${board.name}, even with the smallest arena (one arena copy per PE column); choose fewer columns`);
  }
  const axiBuild = opts.axiBuild ?? ramFit?.build ?? DEFAULT_AXI_BUILD;
  let ports: KernelPort[];
  const files: ProjectFiles = new Map();
  if (kernel === 'rtl') {
    checkRtlKernelModel(model, array, axiBuild);
    for (const [f, data] of rtlKernelFiles(board, array, axiBuild, opts.rtlFileLists).files) files.set(f, data);
    ports = AXI_KERNEL_ARGS.filter((x) => x.master).map((x) => ({ arg: x.name, bundle: x.master! }));
  } else {
    checkHlsModelFits(model, array);
    hlsKernelAbi(); // the source still has the fixed signature
    const top = hlsTopSource();
    ports = kernelPorts(top.text, top.file);
    const src = hlsDir();
    try {
      for (const f of fs.readdirSync(src).sort()) if (/\.(h|cpp)$/.test(f)) files.set(`kernel/${f}`, fs.readFileSync(path.join(src, f), 'utf8'));
      for (const f of ['tb_kernel.cpp', 'tb_common.h']) files.set(`kernel/tb/${f}`, fs.readFileSync(path.join(src, 'tb', f), 'utf8'));
    } catch (e) {
      throw new BitweaveError(`cannot read the HLS kernel sources in ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    files.set('kernel/bitweave_array.h', arrayHeaderC(array));
    files.set('run_hls.tcl', runHlsTcl(board, array));
  }
  const banks = boardBanks(board);
  const bundles = new Set(ports.map((p) => p.bundle)).size;
  const cus = opts.computeUnits ?? estimateComputeUnits(board, array, bundles);
  if (!Number.isInteger(cus) || cus < 1 || cus > 64) throw new BitweaveError(`compute units must be an integer in 1..64, got ${cus}`);
  const conn = assignBanks(ports, banks, cus, kernelSlrs(board));
  const modelFile = `${(opts.modelName ?? model.name).replace(/[^A-Za-z0-9._-]/g, '_') || 'model'}.bnn`;

  files.set(`${KERNEL_NAME}.cfg`, vppConfig(board, kernel, cus, conn));
  files.set('Makefile', makefile(board, kernel, modelFile, opts.bitweaveCommand ?? defaultBitweaveCommand()));
  if (board.name === 'aws-f1') files.set('wait_afi.sh', WAIT_AFI);
  files.set(`model/${modelFile}`, encodeBnn(model));
  const project: VitisProject = {
    dir: outDir, board: board.name, platform: board.platform, kernelName: KERNEL_NAME, kernel, array, arrayNote, computeUnits: cus,
    connectivity: conn, ports, ...(kernel === 'rtl' ? { axiBuild } : {}),
    ...(ramFit ? { onChipRam: { estimate: true, uram: ramFit.ram.uram, bram36: ramFit.ram.bram36, slrBudget: ramFit.budget, memories: ramFit.ram.memories } } : {}),
    files: [], model: modelFile,
    notes: [
      'compute units and LUT figures are estimates; run csynth / v++ for real numbers',
      'not built or run by bitweave: Vitis and XRT were not available where this was emitted',
    ],
  };
  files.set('README.md', readme(project, board));
  project.files = [...files.keys(), manifestName()].sort();
  // written as one step: nothing half-written, nothing of the user's overwritten
  writeProject(outDir, files, { generator: 'bitweave compile', ...project, dir: undefined, opencl: board.opencl }, opts.force ?? false);
  return project;
}
