/**
 * Vitis project emitter: everything needed to build the HLS array (hls/) for a Xilinx
 * board and run a compiled model on it, in one self-contained directory.
 *
 *   kernel/                 the HLS sources (copied from hls/) + bitweave_array.h generated
 *                           for the board's array size; kernel/tb/ the C-simulation bench
 *   run_hls.tcl             vitis_hls: csim, csynth, cosim, export (.xo)
 *   bitweave_array.cfg      v++ config: platform, [connectivity] nk= and sp= per m_axi port
 *   Makefile                TARGET=sw_emu|hw_emu|hw: v++ -c, v++ -l, emconfigutil, run;
 *                           on AWS F1 also afi (create_vitis_afi.sh) and afi-wait
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
import { arrayHeaderC } from '../array/header';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { checkProgram, hlsLimits } from '../array/descriptor';
import { hlsTopSource, hlsKernelAbi, KERNEL_NAME, kernelPorts, KernelPort } from '../array/abi';
import { hlsDir } from '../array/sources';
import { encodeBnn } from '../format/bnn';
import { manifestName, ProjectFiles, writeProject } from './project';
import { xcupCostPerPE } from '../array/resources';
import { boardArray } from './sizing';

export interface VitisOptions {
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
  kernel: string;
  /** How the array size was chosen. */
  arrayNote: string;
  array: ArrayParams;
  computeUnits: number;
  /** Per compute unit: kernel argument -> memory bank. */
  connectivity: { cu: string; sp: Record<string, string> }[];
  ports: KernelPort[];
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

/** Compute units that fit the LUT budget and the memory banks (each CU gets banks of its own). */
export function estimateComputeUnits(board: Board, array: { rows: number; cols: number }, bundles: number): number {
  // per PE: the RTL's yosys figure (resources.ts), a stand-in for the HLS kernel's
  const perCu = array.rows * array.cols * xcupCostPerPE().lut + LUT_PER_CU;
  const lut = board.resources?.lut ?? 0;
  const byLut = Math.floor((lut * LUT_BUDGET) / perCu);
  const banks = board.memory.banks;
  const perCuBanks = Math.min(bundles, banks >= 2 * bundles ? bundles : 2);
  const byBanks = Math.max(1, Math.floor(banks / perCuBanks));
  return Math.max(1, Math.min(byLut, byBanks, 16));
}

/**
 * Memory banks per compute unit: the CU's bundles on its own banks, the activation arena
 * first (it is read and written every layer), then weights, then program + params.
 */
function assignBanks(ports: KernelPort[], banks: string[], cus: number): { cu: string; sp: Record<string, string> }[] {
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
    return { cu: `${KERNEL_NAME}_${i + 1}`, sp };
  });
}

/** Layers that exceed the kernel's buffers or accumulator: one clear error before anything is written. */
function checkModelFits(model: CompiledModel, array: ArrayParams): void {
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

function vppConfig(board: Board, cus: number, conn: { cu: string; sp: Record<string, string> }[]): string {
  const lines = [
    `# v++ configuration (emitted by bitweave for ${board.name}); used by both v++ -c and v++ -l`,
    `platform=${board.platform}`,
    '',
    '[connectivity]',
    `# ${cus} compute unit${cus > 1 ? 's' : ''} of ${KERNEL_NAME}`,
    `nk=${KERNEL_NAME}:${cus}:${conn.map((c) => c.cu).join('.')}`,
    '# every m_axi port of every compute unit on a memory bank of the board',
  ];
  for (const c of conn) for (const [arg, bank] of Object.entries(c.sp)) lines.push(`sp=${c.cu}.${arg}:${bank}`);
  return lines.join('\n') + '\n';
}

function makefile(board: Board, model: string): string {
  const f1 = board.name === 'aws-f1';
  return `# bitweave Vitis project for ${board.name} (${board.platform}).
# make TARGET=sw_emu|hw_emu|hw [xclbin|emconfig|run${f1 ? '|afi|afi-wait' : ''}]   -- see README.md
TARGET ?= hw
KERNEL := ${KERNEL_NAME}
BUILD := build/$(TARGET)
XO := $(BUILD)/$(KERNEL).xo
XCLBIN := $(BUILD)/$(KERNEL).xclbin
MODEL := model/${model}
# the bitweave CLI (from the repository or an installed package)
BITWEAVE ?= npx bitweave
VPP_FLAGS := -t $(TARGET) --config $(KERNEL).cfg --save-temps --temp_dir $(BUILD)/tmp
KERNEL_SRC := $(wildcard kernel/*.h kernel/*.cpp)
${f1 ? `
# AFI creation (AWS F1): an S3 bucket you own and keys (folders) for the DCP and the logs
S3_BUCKET ?=
S3_DCP_KEY ?= bitweave/dcp
S3_LOGS_KEY ?= bitweave/logs
AFI_TOOL ?= $(AWS_FPGA_REPO_DIR)/Vitis/tools/create_vitis_afi.sh
AWSXCLBIN := $(BUILD)/$(KERNEL).awsxclbin
` : ''}
.PHONY: all xo xclbin emconfig run hls check-target${f1 ? ' afi afi-wait' : ''}
all: xclbin

check-target:
\t@case "$(TARGET)" in sw_emu|hw_emu|hw) ;; *) echo "TARGET must be sw_emu, hw_emu or hw (got '$(TARGET)')" >&2; exit 1;; esac
\t@command -v v++ >/dev/null || { echo "v++ not found: source the Vitis settings64.sh${f1 ? ' (on the FPGA Developer AMI: source $$AWS_FPGA_REPO_DIR/vitis_setup.sh)' : ''}" >&2; exit 1; }

# vitis_hls only: C-simulation, synthesis and co-simulation reports of the kernel
hls:
\tvitis_hls -f run_hls.tcl

xo: $(XO)
$(XO): $(KERNEL_SRC) $(KERNEL).cfg | check-target
\t@mkdir -p $(BUILD)
\tv++ -c $(VPP_FLAGS) -k $(KERNEL) -I kernel -o $@ kernel/$(KERNEL).cpp

xclbin: $(XCLBIN)
$(XCLBIN): $(XO) | check-target
\tv++ -l $(VPP_FLAGS) -o $@ $(XO)

# emulation targets need emconfig.json next to the host run
emconfig: $(BUILD)/emconfig.json
$(BUILD)/emconfig.json:
\t@mkdir -p $(BUILD)
\temconfigutil --platform ${board.platform} --od $(BUILD)

# run the model: emulation through XCL_EMULATION_MODE, hardware on the board
ifeq ($(TARGET),hw)
RUN_BINARY := ${f1 ? '$(AWSXCLBIN)' : '$(XCLBIN)'}
RUN_ENV :=
else
RUN_BINARY := $(XCLBIN)
RUN_ENV := XCL_EMULATION_MODE=$(TARGET) EMCONFIG_PATH=$(BUILD)
endif
run: $(RUN_BINARY) $(if $(filter hw,$(TARGET)),,emconfig)
\t$(RUN_ENV) BITWEAVE_OPENCL_BINARY=$(RUN_BINARY) $(BITWEAVE) eval $(MODEL) --dataset fashion-mnist --limit $(if $(filter hw,$(TARGET)),10000,20) --backend opencl
${f1 ? `
# register the xclbin as an Amazon FPGA Image: writes $(AWSXCLBIN) and *_afi_id.txt
afi: $(AWSXCLBIN)
$(AWSXCLBIN): $(XCLBIN)
\t@test "$(TARGET)" = hw || { echo "an AFI needs TARGET=hw" >&2; exit 1; }
\t@test -n "$(S3_BUCKET)" || { echo "set S3_BUCKET=<your bucket> (create_vitis_afi.sh uploads the DCP there)" >&2; exit 1; }
\t@test -x "$(AFI_TOOL)" || { echo "create_vitis_afi.sh not found at $(AFI_TOOL): clone aws-fpga and source vitis_setup.sh" >&2; exit 1; }
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
  const a = p.array;
  return `# bitweave Vitis project: ${p.model} on ${board.title}

Emitted by \`bitweave\` (host/build/vitis.ts). Platform \`${p.platform}\`, part \`${board.part}\`,
array ${a.rows} x ${a.cols} PEs of ${a.word}-bit words (${p.arrayNote}),
${p.computeUnits} compute unit(s) (an estimate from the board's LUTs and memory banks, not a
synthesis result).

Nothing in this directory has been built or run by bitweave itself: it needs AMD Vitis and
XRT${f1 ? ' (the AWS FPGA Developer AMI has both) and an AWS account' : ''}.

## Files

| file | what |
|---|---|
| \`kernel/\` | the HLS kernel (\`${KERNEL_NAME}.cpp\` + one header per block) and \`bitweave_array.h\` generated for this array size |
| \`kernel/tb/\` | C-simulation test bench (random layer programs against a golden model) |
| \`run_hls.tcl\` | \`vitis_hls -f run_hls.tcl\`: csim, csynth, cosim, export |
| \`${KERNEL_NAME}.cfg\` | v++ config: \`platform=\`, \`nk=\` (compute units), \`sp=\` (port → bank) |
| \`Makefile\` | \`TARGET=sw_emu|hw_emu|hw\` builds${f1 ? ', `afi`, `afi-wait`' : ''} |
${f1 ? '| `wait_afi.sh` | polls `aws ec2 describe-fpga-images` until the AFI is `available` |\n' : ''}| \`model/${p.model}\` | the compiled model the host runs |
| \`bitweave-build.json\` | machine-readable summary of the above, every file with its SHA-256 |

## Memory connectivity

${p.connectivity.map((c) => `- ${c.cu}: ${Object.entries(c.sp).map(([k, v]) => `${k} → ${v}`).join(', ')}`).join('\n')}

## Steps

${f1 ? `On a build instance (FPGA Developer AMI, e.g. z1d.2xlarge or c5.4xlarge):

\`\`\`sh
git clone https://github.com/aws/aws-fpga.git $AWS_FPGA_REPO_DIR
source $AWS_FPGA_REPO_DIR/vitis_setup.sh        # sets PLATFORM_REPO_PATHS, XRT, AWS_PLATFORM
make TARGET=sw_emu run                           # functional check in software emulation
make TARGET=hw_emu run                           # RTL emulation (slow: 20 images)
make TARGET=hw xclbin                            # synthesis + implementation (hours)
make TARGET=hw afi S3_BUCKET=<your-bucket>       # create_vitis_afi.sh -> build/hw/${KERNEL_NAME}.awsxclbin
make afi-wait                                    # until the AFI is 'available'
\`\`\`

Copy \`build/hw/${KERNEL_NAME}.awsxclbin\` and \`model/\` to an F1 instance, then:

\`\`\`sh
source $AWS_FPGA_REPO_DIR/vitis_runtime_setup.sh
BITWEAVE_OPENCL_BINARY=build/hw/${KERNEL_NAME}.awsxclbin npx bitweave eval model/${p.model} --dataset fashion-mnist --backend opencl
\`\`\`

\`bitweave deploy --board aws-f1\` runs the same sequence and stops at the first missing tool or credential.`
    : `With Vitis and XRT installed and the platform \`${p.platform}\` in PLATFORM_REPO_PATHS:

\`\`\`sh
source <Vitis>/settings64.sh && source /opt/xilinx/xrt/setup.sh
make TARGET=sw_emu run        # software emulation
make TARGET=hw_emu run        # hardware emulation (slow: 20 images)
make TARGET=hw xclbin         # synthesis + implementation
make TARGET=hw run            # on the card (xbutil examine lists it)
\`\`\``}
`;
}

export function emitVitisProject(model: CompiledModel, board: Board, outDir: string, opts: VitisOptions = {}): VitisProject {
  if (board.toolchain.name !== 'vitis') {
    throw new BitweaveError(`board '${board.name}' uses ${board.toolchain.name}, not Vitis: no Vitis project for it`);
  }
  if (!board.part) throw new BitweaveError(`board '${board.name}' has no part`);
  const sized = opts.array ? null : boardArray(board);
  const shape = opts.array ?? sized!;
  const arrayNote = opts.arrayNote ?? (sized ? sized.note : 'given by the caller');
  if (!Number.isInteger(shape.rows) || shape.rows < 1 || shape.rows > 256 || !Number.isInteger(shape.cols) || shape.cols < 1 || shape.cols > 256) {
    throw new BitweaveError(`array must be 1..256 rows x 1..256 cols, got ${shape.rows}x${shape.cols}`);
  }
  const array: ArrayParams = { ...DEFAULT_ARRAY, rows: shape.rows, cols: shape.cols };
  checkModelFits(model, array);
  hlsKernelAbi(); // the source still has the fixed signature
  const top = hlsTopSource();
  const ports = kernelPorts(top.text, top.file);
  const banks = boardBanks(board);
  const bundles = new Set(ports.map((p) => p.bundle)).size;
  const cus = opts.computeUnits ?? estimateComputeUnits(board, array, bundles);
  if (!Number.isInteger(cus) || cus < 1 || cus > 64) throw new BitweaveError(`compute units must be an integer in 1..64, got ${cus}`);
  const conn = assignBanks(ports, banks, cus);
  const modelFile = `${(opts.modelName ?? model.name).replace(/[^A-Za-z0-9._-]/g, '_') || 'model'}.bnn`;

  const files: ProjectFiles = new Map();
  const src = hlsDir();
  try {
    for (const f of fs.readdirSync(src).sort()) if (/\.(h|cpp)$/.test(f)) files.set(`kernel/${f}`, fs.readFileSync(path.join(src, f), 'utf8'));
    for (const f of ['tb_kernel.cpp', 'tb_common.h']) files.set(`kernel/tb/${f}`, fs.readFileSync(path.join(src, 'tb', f), 'utf8'));
  } catch (e) {
    throw new BitweaveError(`cannot read the HLS kernel sources in ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  files.set('kernel/bitweave_array.h', arrayHeaderC(array));
  files.set('run_hls.tcl', runHlsTcl(board, array));
  files.set(`${KERNEL_NAME}.cfg`, vppConfig(board, cus, conn));
  files.set('Makefile', makefile(board, modelFile));
  if (board.name === 'aws-f1') files.set('wait_afi.sh', WAIT_AFI);
  files.set(`model/${modelFile}`, encodeBnn(model));
  const project: VitisProject = {
    dir: outDir, board: board.name, platform: board.platform, kernel: KERNEL_NAME, array, arrayNote, computeUnits: cus,
    connectivity: conn, ports, files: [], model: modelFile,
    notes: [
      'compute units and LUT figures are estimates; run csynth / v++ for real numbers',
      'not built or run by bitweave: Vitis and XRT were not available where this was emitted',
    ],
  };
  files.set('README.md', readme(project, board));
  project.files = [...files.keys(), manifestName()].sort();
  // written as one step: nothing half-written, nothing of the user's overwritten
  writeProject(outDir, files, { generator: 'bitweave compile', ...project, dir: undefined }, opts.force ?? false);
  return project;
}
