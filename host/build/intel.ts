/**
 * Build directory for Intel FPGA boards (Intel FPGA SDK for OpenCL): the kernel sources
 * with the generated header, a Makefile driving `aoc` for the emulator, the early report
 * and the hardware image, `aocl` to program the board, `check-env.sh` (one line per missing
 * tool), a run script that points the `opencl` backend at the .aocx and at the build's
 * bitweave-build.json, and a README with every step in order.
 *
 * Two SDK editions matter: the Pro Edition (the PAC's Acceleration Stack 1.2.1 pairs aoc
 * 19.4 with Quartus Prime Pro 19.2) has the fast emulator (-march=emulator without a
 * board, its own OpenCL platform) and `-rtl` for the report; the Standard Edition (18.1,
 * the last with Cyclone V, hence DE10-Nano) emulates a named board with the legacy
 * emulator and produces the report with `-c`.
 *
 * The work is split between two machines: aoc runs on a development PC; the card's host
 * (PAC) or the board's own ARM Linux (DE10-Nano) has only the runtime. `make program` and
 * `run.sh` therefore never depend on the kernel sources: copied next to newer sources, or
 * without them, they never try to run aoc.
 */
import { Board } from '../boards';
import { BitweaveError } from '../core/errors';
import { KERNEL_NAME, KernelProject, KernelProjectInput, kernelProjectFiles, manifestName, segmentTable } from './project';
import { INTEL_ARRAY_FRACTION, intelFit, intelFits, intelRate, intelResources, MIN_WEIGHT_WORDS } from './intel-estimate';
import { CompiledModel } from '../compile/model';
import { ArrayParams } from '../array/params';
import { encodeSegment } from '../array/program';
import { MAX_BITS } from '../array/limits';
import { targetModel } from '../array/zero-pad';

/** The PE array's weight store for this board and array: the largest the estimate fits (intelFit), at least the minimum. */
export function weightStoreWords(board: Board, array: { rows: number; cols: number }): number {
  return intelFit(board, array)?.weightWords ?? MIN_WEIGHT_WORDS;
}

/** Assumed kernel clock for the README's rate line: aoc sets the real one. */
const ASSUMED_MHZ = 200;

/** The README's rate estimate of the model on this array (cycle model and DDR traffic upper bound), at an assumed clock. */
function rateEstimate(board: Board, source: CompiledModel, array: ArrayParams): string {
  const model = targetModel(source, MAX_BITS);
  const progs = model.segments.flatMap((s, i) => (s.kind === 'device' ? [encodeSegment(model, i, array)] : []));
  const r = intelRate(progs, array, ASSUMED_MHZ, 32, weightStoreWords(board, array));
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  return (
    `Rate, **projected** (binary layers only, batches of 32): ${fmt(r.cyclesPerImage)} array cycles per image (the cycle model's tile phase) and at most ` +
    `${fmt(r.bytesPerImage)} DDR bytes per image; if aoc reached ${ASSUMED_MHZ} MHz (an assumption: aoc sets the clock), ~${fmt(r.imagesPerSecond)} images/s, ` +
    `needing ${r.ddrGBps.toFixed(1)} GB/s of DDR without cache hits.`
  );
}

/** The README's estimate of this array on this board (host/build/intel-estimate.ts), said to be one. */
function resourceEstimate(board: Board, array: { rows: number; cols: number }): string {
  const r = intelResources(array, weightStoreWords(board, array));
  const fmt = (v: number) => v.toLocaleString('en-US');
  const fits = intelFits(board, r) ? `within ${INTEL_ARRAY_FRACTION * 100}% of the device` : `**more than ${INTEL_ARRAY_FRACTION * 100}% of the device: it may not fit**`;
  return (
    `Estimated by bitweave from the kernels' structure, not by aoc: ${fmt(r.alm)} ALMs (${fmt(r.parts.pes)} for the PEs, ${fmt(r.parts.lsus)} for ` +
    `${r.lsus.total} load/store units), ${fmt(r.m20k)} M20Ks, ${r.dsp} DSPs; ${fits}. The load/store-unit cost is an assumed figure (docs/DEPLOY.md).`
  );
}

export type IntelEdition = 'pro' | 'standard';

/** Cyclone V (part 5C…) is only supported by the Standard Edition. */
export function intelEdition(board: Board): IntelEdition {
  return board.part !== null && /^5C/i.test(board.part) ? 'standard' : 'pro';
}

/** The BSP board variant, from the board description's compiler line (aoc -board=<name>). */
export function intelBoardVariant(board: Board): string {
  const m = /-board=([A-Za-z0-9_.-]+)/.exec(board.toolchain.compiler);
  if (!m) throw new BitweaveError(`board ${board.name}: toolchain.compiler '${board.toolchain.compiler}' names no -board=<variant>`);
  return m[1];
}

/** The images of a build: emulator, hardware, and what the board is programmed with. */
export function intelImages(board: Board): { emulator: string; hardware: string; program: string } {
  const hardware = `bin/${KERNEL_NAME}.aocx`;
  return { emulator: `bin/${KERNEL_NAME}_emu.aocx`, hardware, program: pacHeader(board) ? `bin/${KERNEL_NAME}_unsigned.aocx` : hardware };
}

/**
 * The Acceleration Stack's BSPs (pac_*) program only bitstreams that carry its security
 * header (stack 1.2.1 onwards), which sign_aocx.sh adds; other BSPs take aoc's output.
 */
function pacHeader(board: Board): boolean {
  return intelBoardVariant(board).startsWith('pac_');
}

export function emitIntelProject(p: KernelProjectInput): KernelProject {
  const { model, board, array, kernels, modelFile } = p;
  const edition = intelEdition(board);
  const pro = edition === 'pro';
  const variant = intelBoardVariant(board);
  const signs = pacHeader(board);
  const img = intelImages(board);
  const release = board.toolchain.release ?? `Intel FPGA SDK for OpenCL ${pro ? 'Pro' : 'Standard'} Edition`;
  const bundle = `${model.name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'model'}-${board.name}-board.tar.gz`;
  const manifest = manifestName();
  const files = kernelProjectFiles(p);
  const where = pro ? 'the machine with the card' : "the board's ARM Linux";

  const emu = pro ? `$(AOC) -march=emulator $(AOC_FLAGS) $(KERNEL) -o $@` : `$(AOC) -march=emulator -board=$(BOARD) $(AOC_FLAGS) $(KERNEL) -o $@`;
  const report = pro
    ? `$(AOC) -rtl -report -board=$(BOARD) $(AOC_FLAGS) $(KERNEL) -o bin/${KERNEL_NAME}.aocr`
    : `$(AOC) -c -report -board=$(BOARD) $(AOC_FLAGS) $(KERNEL) -o bin/${KERNEL_NAME}.aoco`;
  const commands: Record<string, string> = {
    checkEnv: 'make check-env  # aoc, aocl, the BSP and its board variant: one line for what is missing',
    emulator: `make emulator   # aoc -march=emulator -> ${img.emulator}`,
    runEmulator: './run.sh emulator --dataset <name> --limit 100',
    report: `make report     # early resource and loop report: bin/${KERNEL_NAME}/reports/report.html`,
    hardware: `make hardware   # full compile (hours) -> ${img.hardware}`,
    ...(signs ? { sign: `make sign       # sign_aocx.sh -r NULL -k NULL: the stack's unsigned header -> ${img.program}` } : {}),
    bundle: `make bundle     # ${bundle}: what ${where} needs`,
    program: `make program    # on ${where}: aocl program acl0 ${img.program}`,
    runHardware: './run.sh hardware --dataset <name>',
  };

  const boardFiles = [img.program, modelFile, 'run.sh', 'check-env.sh', 'Makefile', manifest, 'README.md'];
  files.set(
    'Makefile',
    `# Generated by bitweave for board ${board.name} (${board.title}).
# Toolchain: ${release}.
# Array ${array.rows} x ${array.cols} PEs of ${array.word}-bit words (kernels/bitweave_array.h).
#
# On the development PC (aoc):  make check-env emulator report hardware${signs ? ' sign' : ''} bundle
# On ${where}:  make program, then ./run.sh hardware
# 'program' has no prerequisites, so it never runs aoc there: it needs only ${img.program}.
AOC ?= aoc
AOCL ?= aocl
BOARD ?= ${variant}
DEVICE ?= acl0
KERNEL := ${kernels.top}
SOURCES := $(wildcard kernels/*.cl kernels/*.h kernels/*/*.cl kernels/*/*.h)
AOC_FLAGS := -I kernels -DBW_INTEL_FPGA=1 -DBW_WEIGHT_BUF_WORDS=${weightStoreWords(board, array)}
EMULATOR_AOCX := ${img.emulator}
HARDWARE_AOCX := ${img.hardware}
${signs ? `PROGRAM_AOCX := ${img.program}\nSIGN_AOCX ?= $(AOCL_BOARD_PACKAGE_ROOT)/linux64/libexec/sign_aocx.sh\n` : ''}BUNDLE := ${bundle}
BOARD_FILES := ${boardFiles.map((f) => (f === img.program ? (signs ? '$(PROGRAM_AOCX)' : '$(HARDWARE_AOCX)') : f)).join(' ')}

.PHONY: all check-env emulator report hardware${signs ? ' sign' : ''} bundle program diagnose clean
all: emulator

check-env:
\t@./check-env.sh build

emulator: $(EMULATOR_AOCX)
$(EMULATOR_AOCX): $(SOURCES)
\t@mkdir -p bin
\t${emu}

report: $(SOURCES)
\t@mkdir -p bin
\t${report}

hardware: $(HARDWARE_AOCX)
$(HARDWARE_AOCX): $(SOURCES)
\t@mkdir -p bin
\t$(AOC) -report -board=$(BOARD) $(AOC_FLAGS) $(KERNEL) -o $@
${
  signs
    ? `
# Acceleration Stack 1.2.1 programs only bitstreams with its security header. Without keys
# (-r NULL -k NULL) sign_aocx.sh writes the header of an unsigned bitstream, after asking
# twice whether to go on without a root key and without a code-signing key: 'yes Y' answers.
sign: $(PROGRAM_AOCX)
$(PROGRAM_AOCX): $(HARDWARE_AOCX)
\tyes Y | $(SIGN_AOCX) -H openssl_manager -i $(HARDWARE_AOCX) -r NULL -k NULL -o $@
`
    : ''
}
# What ${where} needs, without the kernel sources.
bundle: ${signs ? '$(PROGRAM_AOCX)' : '$(HARDWARE_AOCX)'}
\ttar czf $(BUNDLE) $(BOARD_FILES)

program:
\t@test -f ${signs ? '$(PROGRAM_AOCX)' : '$(HARDWARE_AOCX)'} || { echo "make program: ${img.program} is missing: build it on the development PC (make hardware${signs ? ' sign' : ''} bundle) and unpack the bundle here" >&2; exit 1; }
\t$(AOCL) program $(DEVICE) ${signs ? '$(PROGRAM_AOCX)' : '$(HARDWARE_AOCX)'}

diagnose:
\t$(AOCL) diagnose

clean:
\trm -rf bin $(BUNDLE)
`,
  );

  files.set('check-env.sh', checkEnvScript(board, { pro, signs, variant, release }));

  const emulatorDevice = 'Emulat';
  files.set(
    'run.sh',
    `#!/usr/bin/env bash
# Runs the compiled model through bitweave's opencl backend on the emulator or the board.
# usage: ./run.sh emulator|hardware [bitweave eval options, e.g. --dataset mnist --limit 100]
# BITWEAVE: how to start bitweave (default: npx bitweave, from a bitweave checkout or install).
set -euo pipefail
cd "$(dirname "$0")"
mode="\${1:-}"
shift || true
case "$mode" in
  emulator) image=${img.emulator} make_step="make emulator" ;;
  hardware) image=${img.program} make_step="make hardware${signs ? ' sign' : ''} (on the development PC)" ;;
  *)
    echo "usage: ./run.sh emulator|hardware [bitweave eval options]" >&2
    exit 1
    ;;
esac
if [ ! -f "$image" ]; then
  echo "run.sh: $image is missing: run '$make_step' first" >&2
  exit 1
fi
./check-env.sh "$mode"
export BITWEAVE_OPENCL_BINARY="$PWD/$image"
# the array size the bitstream was built for (the layer programs are encoded for it) and the
# board file's OpenCL device (on a platform like "${board.opencl.platform}", named like "${board.opencl.device ?? 'any'}")
export BITWEAVE_OPENCL_BUILD="$PWD/${manifest}"
if [ "$mode" = emulator ]; then
  # the emulator is not the board's device: pick it by name (BITWEAVE_OPENCL_DEVICE overrides)
  export BITWEAVE_OPENCL_DEVICE="\${BITWEAVE_OPENCL_DEVICE:-${emulatorDevice}}"${pro ? '' : '\n  export CL_CONTEXT_EMULATOR_DEVICE_INTELFPGA=1  # the Standard Edition\'s legacy emulator'}
fi${
      pro
        ? ''
        : `
if [ "$mode" = hardware ]; then
  # the native CPU engine is x86-64 code; the DE10-Nano's host is its ARM Cortex-A9
  export BITWEAVE_HOST_ENGINE="\${BITWEAVE_HOST_ENGINE:-reference}"
fi`
    }
exec \${BITWEAVE:-npx bitweave} eval ${modelFile} --backend opencl "$@"
`,
  );

  files.set('README.md', readme(p, { pro, signs, variant, release, img, bundle, boardFiles, where }));
  return { files, commands };
}

/**
 * `./check-env.sh build|emulator|hardware`: what each step needs, checked before it runs;
 * every problem is one line naming the fix, and exit 1.
 */
function checkEnvScript(board: Board, o: { pro: boolean; signs: boolean; variant: string; release: string }): string {
  const setup = o.pro
    ? 'source <Acceleration Stack install path>/init_env.sh'
    : 'source $INTELFPGAOCLSDKROOT/init_opencl.sh (SDK 18.1, with the DE10-Nano BSP under its board directory)';
  const aocVersion = board.toolchain.aocVersion;
  // text inside a double-quoted bash string: no expansion (set -u would stop at an unset variable)
  const dq = (t: string) => t.replace(/[\\"$`]/g, (c) => `\\${c}`);
  const hint = dq(setup);
  return `#!/usr/bin/env bash
# Checks what a step of this build needs before it runs: one line per problem, exit 1.
# usage: ./check-env.sh build|emulator|hardware
# Toolchain: ${o.release}.
set -uo pipefail
cd "$(dirname "$0")"
fail() {
  echo "check-env: $*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || fail "'$1' is not on PATH: $2"
}
aoc="\${AOC:-aoc}"
aocl="\${AOCL:-aocl}"
# the ICD loader reads its vendor entries from here (OCL_ICD_VENDORS may name another directory)
icd_dir="\${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}"

case "\${1:-}" in
  build)
    need "$aoc" "${hint}"
    need "$aocl" "${hint}"
    [ -n "\${AOCL_BOARD_PACKAGE_ROOT:-}" ] && [ -d "$AOCL_BOARD_PACKAGE_ROOT" ] ||
      fail "AOCL_BOARD_PACKAGE_ROOT='\${AOCL_BOARD_PACKAGE_ROOT:-}' is not the BSP directory: ${o.pro ? '\\$OPAE_PLATFORM_ROOT/opencl/opencl_bsp after ' : ''}${hint}"
    # read the whole list first: with pipefail, grep -q quitting early would fail the pipe
    boards="$("$aoc" -list-boards 2>/dev/null)"
    grep -qw ${o.variant} <<<"$boards" ||
      fail "'aoc -list-boards' does not list ${o.variant}: AOCL_BOARD_PACKAGE_ROOT=$AOCL_BOARD_PACKAGE_ROOT is not its BSP"
${
  o.signs
    ? `    [ -x "$AOCL_BOARD_PACKAGE_ROOT/linux64/libexec/sign_aocx.sh" ] ||
      fail "$AOCL_BOARD_PACKAGE_ROOT/linux64/libexec/sign_aocx.sh is missing: 'make sign' needs the BSP of Acceleration Stack 1.2.1"
`
    : ''
}${
  aocVersion
    ? `    # the BSP only works with the release it came with: say so when aoc is another one
    found="$("$aoc" -version 2>/dev/null | grep -o 'Version [0-9][0-9.]*' | head -n 1)"
    case "$found" in
      "Version ${aocVersion}"*) ;;
      *) echo "check-env: warning: aoc reports '\${found:-no version}'; this build is pinned to aoc ${aocVersion} (${o.release})" >&2 ;;
    esac
`
    : ''
}    ;;
  emulator)
${
  o.pro
    ? `    [ -n "\${INTELFPGAOCLSDKROOT:-}" ] || fail "INTELFPGAOCLSDKROOT is not set: ${hint}"
    # the Pro Edition emulator is its own OpenCL platform, registered by this ICD entry
    icd="$icd_dir/Intel_FPGA_SSG_Emulator.icd"
    [ -f "$icd" ] || fail "no emulator ICD entry $icd: sudo cp $INTELFPGAOCLSDKROOT/Intel_FPGA_SSG_Emulator.icd /etc/OpenCL/vendors/ (or point OCL_ICD_VENDORS at a directory with a copy)"
    if [ -f "$INTELFPGAOCLSDKROOT/Intel_FPGA_SSG_Emulator.icd" ] && ! cmp -s "$icd" "$INTELFPGAOCLSDKROOT/Intel_FPGA_SSG_Emulator.icd"; then
      fail "$icd differs from the SDK's $INTELFPGAOCLSDKROOT/Intel_FPGA_SSG_Emulator.icd: copy the SDK's over it"
    fi
    # the emulator needs GCC 7.2's libstdc++ (GLIBCXX_3.4.24) or newer in the host process, here node;
    # an older copy first on LD_LIBRARY_PATH (the Intel tools ship their own) hides the emulator platform
    node_bin="$(command -v node 2>/dev/null || true)"
    if [ -n "$node_bin" ]; then
      lib="$(ldd "$node_bin" 2>/dev/null | awk '$1 == "libstdc++.so.6" { print $3; exit }')"
      if [ -n "$lib" ] && [ -f "$lib" ] && ! grep -q GLIBCXX_3.4.24 "$lib"; then
        fail "node loads $lib, older than GCC 7.2's libstdc++ (no GLIBCXX_3.4.24) that the emulator needs: put the system's first (LD_LIBRARY_PATH=<dir of the system libstdc++.so.6>:\\$LD_LIBRARY_PATH) or LD_PRELOAD it"
      fi
    fi
`
    : `    [ -n "\${INTELFPGAOCLSDKROOT:-}" ] || fail "INTELFPGAOCLSDKROOT is not set: ${hint}"
    # the legacy emulator runs inside the FPGA runtime (libalteracl.so), switched on by CL_CONTEXT_EMULATOR_DEVICE_INTELFPGA=1
    grep -qs libalteracl "$icd_dir"/*.icd || fail "no ICD entry in $icd_dir names libalteracl.so: run 'aocl install' after ${hint}"
`
}    ;;
  hardware)
    need "$aocl" "${dq(o.pro ? 'source <Acceleration Stack install path>/init_env.sh (Runtime or Development 1.2.1)' : "source the runtime's init_opencl.sh on the board (the BSP's SD-card image has it)")}"
    grep -qs libalteracl "$icd_dir"/*.icd || fail "no ICD entry in $icd_dir names libalteracl.so (the FPGA runtime): 'aocl diagnose' shows the ICD setup"
    ;;
  *)
    echo "usage: ./check-env.sh build|emulator|hardware" >&2
    exit 1
    ;;
esac
`;
}

function readme(
  p: KernelProjectInput,
  o: { pro: boolean; signs: boolean; variant: string; release: string; img: ReturnType<typeof intelImages>; bundle: string; boardFiles: string[]; where: string },
): string {
  const { model, board, array, kernels, segments, modelFile } = p;
  const pac = o.signs;
  const steps: string[] = [];
  const step = (s: string) => steps.push(`${steps.length + 1}. ${s}`);
  if (pac) {
    step(
      'Environment (development PC, Intel Acceleration Stack for Development 1.2.1): `source <DEV install path>/init_env.sh`. It sets\n' +
        '   OPAE_PLATFORM_ROOT, AOCL_BOARD_PACKAGE_ROOT=$OPAE_PLATFORM_ROOT/opencl/opencl_bsp (the BSP of this stack release),\n' +
        '   INTELFPGAOCLSDKROOT and QUARTUS_HOME, and puts aoc and aocl on PATH. Build with the BSP of the stack whose FIM is on the card.',
    );
  } else {
    step(
      'Environment (development PC): `source $INTELFPGAOCLSDKROOT/init_opencl.sh` of the SDK 18.1 (Standard Edition), with the\n' +
        "   Terasic DE10-Nano OpenCL BSP installed under the SDK's board directory (AOCL_BOARD_PACKAGE_ROOT pointing at it).",
    );
  }
  step(`\`make check-env\`: aoc, aocl, the BSP, \`${o.variant}\` in \`aoc -list-boards\`${pac ? ', sign_aocx.sh' : ''}; a warning when aoc is not ${board.toolchain.aocVersion ?? 'the pinned release'}.`);
  if (o.pro) {
    step(
      'Emulator setup (once): the emulator is its own OpenCL platform ("Intel(R) FPGA Emulation Platform for OpenCL(TM)"),\n' +
        '   registered by `/etc/OpenCL/vendors/Intel_FPGA_SSG_Emulator.icd`, which must match `$INTELFPGAOCLSDKROOT/Intel_FPGA_SSG_Emulator.icd`\n' +
        '   (`sudo cp` it when the SDK was installed without root; or set OCL_ICD_VENDORS to a directory holding a copy). It needs\n' +
        "   GCC 7.2's libstdc++ (GLIBCXX_3.4.24) or newer in node's process: if an older libstdc++.so.6 comes first on LD_LIBRARY_PATH,\n" +
        "   put the system's directory first or LD_PRELOAD the system's libstdc++.so.6. run.sh checks both before an emulator run.",
    );
  }
  step(
    `Emulate (minutes, no board): \`make emulator\`, then \`./run.sh emulator --dataset <dataset> --limit 100\`. ` +
      (o.pro ? 'run.sh selects the emulator device by name (Emulat…).' : 'run.sh sets CL_CONTEXT_EMULATOR_DEVICE_INTELFPGA=1 (the legacy emulator of the named board).'),
  );
  step(
    `Early report (minutes): \`make report\`, then open \`bin/${KERNEL_NAME}/reports/report.html\`: the PE loops must be fully unrolled,\n` +
      '   the word loop must reach II=1, and the estimated resources must fit; otherwise compile again with smaller `--rows/--cols`.',
  );
  step(`Hardware (hours): \`make hardware\` writes \`${o.img.hardware}\`.`);
  if (pac) {
    step(
      `Security header: \`make sign\` runs \`$AOCL_BOARD_PACKAGE_ROOT/linux64/libexec/sign_aocx.sh -H openssl_manager -i ${o.img.hardware}\n` +
        `   -r NULL -k NULL -o ${o.img.program}\` (answering Y to its two questions): a 1.2.1 card programs only images with this header.\n` +
        '   To sign with your own keys instead, run sign_aocx.sh with `-r <root public key> -k <code signing key>` and the same output name.',
    );
  }
  step(`\`make bundle\` writes \`${o.bundle}\`: ${o.boardFiles.map((f) => `\`${f}\``).join(', ')} — everything ${o.where} needs, without the kernel sources.`);
  if (pac) {
    step(
      'On the machine with the card (Acceleration Stack for Runtime or Development 1.2.1): `source <install path>/init_env.sh`,\n' +
        `   unpack the bundle into an empty directory, and install bitweave there (\`npm install\` of bitweave, Node.js 20 or newer).`,
    );
  } else {
    step(
      "On the DE10-Nano (the BSP's SD-card image, MSEL switches set for configuration from the HPS): copy the bundle to the board,\n" +
        "   unpack it, source the runtime's `init_opencl.sh` and install bitweave with an arm32 Node.js (20 or newer). bitweave's\n" +
        '   native CPU engine is x86-64 code: on the ARM host the host layers run on the reference engine (run.sh sets it).',
    );
  }
  step(`Program: \`make program\` (\`aocl program acl0 ${o.img.program}\`; it never compiles). \`make diagnose\` (\`aocl diagnose\`) checks the board.`);
  step(
    `Run: \`./run.sh hardware --dataset <dataset>\`. run.sh hands the backend \`${o.img.program}\` (BITWEAVE_OPENCL_BINARY, loaded with\n` +
      '   clCreateProgramWithBinary; the runtime reprograms the FPGA from it, so it is the same file as in step "Program") and\n' +
      "   `bitweave-build.json` (BITWEAVE_OPENCL_BUILD): the layer programs are encoded for this build's array and the board file's\n" +
      `   OpenCL device is selected (\`${board.opencl.device}\` on a platform like "${board.opencl.platform}").`,
  );

  return `# ${model.name} on ${board.name}

Generated by \`bitweave compile\` for ${board.title}.
Toolchain: ${o.release}.
Array: ${array.rows} x ${array.cols} processing elements of ${array.word}-bit words, accumulators of ${array.accBits} bits. The array size is a starting
point (${board.defaultArray.estimate ? 'an estimate, not confirmed by an aoc report' : 'from the board description'}); the report step tells whether it fits.
${resourceEstimate(board, array)}
${rateEstimate(board, model, array)}

Nothing in this directory was compiled by bitweave, and no step below has been run by the bitweave project: aoc, aocl,
sign_aocx.sh and the boards were not available where it is developed. The kernel sources are the ones bitweave's tests
run on PoCL against its reference backend, bit for bit; the Makefile, check-env.sh and run.sh are checked by the tests
with stand-in tools that log their arguments.

## Files

- \`kernels/\` — the OpenCL C kernel (\`${kernels.top}\` defines \`${KERNEL_NAME}\`) and \`bitweave_array.h\`, the
  generated array parameters and layer-descriptor layout.
- \`${modelFile}\` — the compiled model. The bitstream does not depend on it: one .aocx runs every model.
- \`Makefile\`, \`check-env.sh\`, \`run.sh\`, \`bitweave-build.json\` (what was emitted, with SHA-256 sums; the array the backend encodes for).

## Steps

${steps.join('\n')}

## Layer programs

${segmentTable(segments)}
`;
}
