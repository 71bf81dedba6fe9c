/**
 * Zynq-7000 boards (toolchain 'vivado', boards/pynq-z1.json): the RTL kernel of the Vitis
 * boards (sim/axi/bw_axi_kernel.sv) behind the PS's AXI_HP ports, built with plain Vivado.
 *
 *  - `zynqKernelBuild`: the kernel's build for the part (64-bit masters, the HP ports' width;
 *    bursts of at most 16 beats, AXI3's limit; on-chip memories fitted to the part's RAMB36).
 *  - `zynqProjection`: projected images/s from the cycle model (host/array/cycles.ts) at the
 *    board's clock and its DDR figures (memory.axi): each call's inputs in and outputs out at
 *    the HP port's sustained rate, overlapped with the array's runs of the other chunks as the
 *    kernel does it (axiChunk's estimate). A projection, never a measurement.
 *  - `emitZynqProject`: what `bitweave compile --board pynq-z1` writes: the RTL, a Verilog
 *    wrapper with the build's parameters, a Vivado Tcl script (project for the part, block
 *    design with processing_system7 and the kernel on HP0..HP2, bitstream) and a README.
 */
import * as path from 'node:path';
import { axiMemory, Board } from '../boards';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { encodeBnn } from '../format/bnn';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { encodeSegment } from '../array/program';
import { targetModel } from '../array/zero-pad';
import { programCycles } from '../array/cycles';
import { AXI_BUILD, AXI_CONTROL_ADDR_BITS, AXI_MASTERS, AxiKernelBuild, arenaWindows, axiArenaRowWords, axiChunk, AxiChannel, KERNEL_NAME } from '../array/axi-kernel';
import { fitKernelRam, KernelRam, RAM_FRACTION } from './kernel-ram';
import { boardArray } from './sizing';
import { checkRtlKernelModel, RTL_TOP, rtlKernelFiles, rtlKernelParameters, rtlKernelPorts } from './vitis-rtl';
import { arrayFor, BoardBuildOptions, BoardBuildResult, ProjectFiles, segmentTable, summariseSegments, writeProject } from './project';

/**
 * The kernel a Zynq build starts from before its arena is fitted: 64-bit masters, AXI3 bursts
 * of 16 beats, 4 reads in flight; memories for the FINN MLPs' programs (TFC, SFC: 2,048
 * parameter words, 2,048 wide weight rows).
 */
export const ZYNQ_KERNEL_BASE: AxiKernelBuild = { dataBits: 64, outstanding: 4, maxBurst: 16, descDepth: 512, paramDepth: 2048, weightRows: 2048, arenaWords: 1 << 14 };

/** A Zynq board's RAM budget: RAM_FRACTION of its RAMB36 (no UltraRAM on 7-series parts). */
export function zynqRamBudget(board: Board): { uram: number; bram36: number } {
  const b = board.resources?.bram36k;
  if (b === undefined) throw new BitweaveError(`board '${board.name}' lists no block RAM (resources.bram36k)`);
  return { uram: 0, bram36: Math.floor(b * RAM_FRACTION) };
}

/** The kernel build for a Zynq board's array: the deepest arena whose memories fit the RAM budget, or a one-line error. */
export function zynqKernelBuild(board: Board, array: { rows: number; cols: number }): { build: AxiKernelBuild; ram: KernelRam; budget: { uram: number; bram36: number } } {
  const budget = zynqRamBudget(board);
  const fit = fitKernelRam(budget, array, ZYNQ_KERNEL_BASE);
  if (!fit) throw new BitweaveError(`board ${board.name}: the RTL kernel's memories at ${array.rows}x${array.cols} do not fit ${budget.bram36} RAMB36 (${Math.round(RAM_FRACTION * 100)}% of the part's)`);
  return { ...fit, budget };
}

export interface ZynqProjection {
  board: string;
  array: { rows: number; cols: number; word: number };
  batch: number;
  clockMHz: number;
  /** The cycle model's array cycles for the batch in one run, per image. */
  arrayCyclesPerImage: number;
  /** The array with the calls' DDR traffic (inputs in, outputs out), per image. */
  kernelCyclesPerImage: number;
  /** MAC-weighted PE utilisation over the device layers (the array alone). */
  utilization: number;
  /** Bytes per image over the HP ports (whole arena rows, as the kernel copies them). */
  bytesPerImage: number;
  memory: { readLatency: number; writeLatency: number; bytesPerCycle: number };
  /** Images per call: as many as the build's arena holds (the batch when the model does not fit). */
  imagesPerCall: number;
  arrayImagesPerSecond: number;
  imagesPerSecond: number;
  /** Whether the model runs on the board build as emitted (its memories, 1-bit outputs). */
  fits: boolean;
  /** Why not, one line. */
  fitNote?: string;
  projected: true;
}

/** Cycles of one call of `n` images on a segment: the array's runs of its chunks overlapped with the copies of the others (the kernel's schedule). */
function callCycles(prog: ReturnType<typeof encodeSegment>, n: number, p: ArrayParams & { dataBits: number }, ch: AxiChannel): { cycles: number; bytes: number } {
  const chunk = axiChunk(prog, n, p, ch);
  const w = arenaWindows(prog);
  const row = axiArenaRowWords(p.rows, p.dataBits);
  const inB = Math.ceil(w.in_words / row) * row * 8;
  const outB = w.out_words ? (Math.ceil((w.out_off + w.out_words) / row) - Math.floor(w.out_off / row)) * row * 8 : 0;
  const tin = (k: number) => (inB ? ch.readLatency + (k * inB) / ch.bytesPerCycle : 0);
  const tout = (k: number) => (outB ? ch.writeLatency + (k * outB) / ch.bytesPerCycle : 0);
  const sizes = Array.from({ length: Math.ceil(n / chunk) }, (_, i) => Math.min(chunk, n - i * chunk));
  let t = tin(sizes[0]);
  sizes.forEach((k, i) => {
    const run = programCycles(prog, k, p).reduce((s, l) => s + l.cycles, 0);
    const dma = (i + 1 < sizes.length ? tin(sizes[i + 1]) : 0) + (i > 0 ? tout(sizes[i - 1]) : 0);
    t += Math.max(run, dma);
  });
  t += tout(sizes[sizes.length - 1]);
  return { cycles: t, bytes: n * (inB + outB) };
}

/**
 * Projected images/s of a model on a Zynq board: the cycle model at the board's array
 * (the kernel's one-column drain) and clock, with the DDR traffic of the kernel's calls at
 * the board's HP-port figures. Models with several device segments also pay, per call, the
 * staging of the segment's program (weights over their own master, not overlapped).
 */
export function zynqProjection(source: CompiledModel, board: Board, batch: number, size: { rows: number; cols: number } = boardArray(board)): ZynqProjection {
  // the device segments as the host runs them on the kernel's 1-bit outputs (host/array/zero-pad.ts)
  const model = targetModel(source, AXI_BUILD.maxOutBits);
  const mhz = board.clock.kernelMHz;
  if (mhz === null) throw new BitweaveError(`board '${board.name}' has no kernel clock to project with`);
  if (!Number.isInteger(batch) || batch < 1) throw new BitweaveError(`batch must be a positive integer, got ${batch}`);
  const memory = axiMemory(board);
  const array: ArrayParams = { ...DEFAULT_ARRAY, rows: size.rows, cols: size.cols, drain: AXI_BUILD.drain };
  const { build } = zynqKernelBuild(board, array);
  let fitNote: string | undefined;
  try {
    checkRtlKernelModel(model, array, build);
  } catch (e) {
    if (!(e instanceof BitweaveError)) throw e;
    fitNote = e.message.replace(/^--kernel rtl: /, '').replace(/ \(use --kernel hls\)$/, '');
  }
  const p = { ...array, dataBits: build.dataBits };
  const device = model.segments.map((s, i) => [s, i] as const).filter(([s]) => s.kind === 'device');
  if (device.length === 0) throw new BitweaveError(`model '${model.name}' has no binary layers to project`);
  let arrayCycles = 0;
  let kernelCycles = 0;
  let bytes = 0;
  let macs = 0;
  let peCycles = 0;
  let perCallMin = batch;
  for (const [, si] of device) {
    const prog = encodeSegment(model, si, array);
    for (const l of programCycles(prog, batch, array)) {
      arrayCycles += l.cycles;
      macs += l.macs;
      peCycles += array.rows * array.cols * array.word * l.cycles;
    }
    const row = axiArenaRowWords(array.rows, build.dataBits);
    const stride = Math.ceil(prog.arenaWords / row) * row;
    const perCall = fitNote ? batch : Math.max(1, Math.min(batch, Math.floor(build.arenaWords / stride)));
    perCallMin = Math.min(perCallMin, perCall);
    const stage = device.length > 1 ? Math.max(prog.weights.byteLength, (prog.params.length + prog.descriptors.length) * 4) / memory.bytesPerCycle + memory.readLatency : 0;
    for (let done = 0; done < batch; done += perCall) {
      const n = Math.min(perCall, batch - done);
      const c = callCycles(prog, n, p, memory);
      kernelCycles += c.cycles + stage;
      bytes += c.bytes;
    }
  }
  const kernelPer = kernelCycles / batch;
  const arrayPer = arrayCycles / batch;
  return {
    board: board.name,
    array: { rows: array.rows, cols: array.cols, word: array.word },
    batch,
    clockMHz: mhz,
    arrayCyclesPerImage: arrayPer,
    kernelCyclesPerImage: kernelPer,
    utilization: macs / peCycles,
    bytesPerImage: bytes / batch,
    memory,
    imagesPerCall: perCallMin,
    arrayImagesPerSecond: (mhz * 1e6) / arrayPer,
    imagesPerSecond: (mhz * 1e6) / kernelPer,
    fits: fitNote === undefined,
    ...(fitNote ? { fitNote } : {}),
    projected: true,
  };
}

/** The Verilog top the block design instantiates (a module reference must be Verilog or VHDL): bw_axi_kernel with the build's parameters. */
export function zynqWrapper(build: AxiKernelBuild): string {
  const ports = rtlKernelPorts(build);
  const busifs = ['s_axi_control', ...AXI_MASTERS].join(':');
  const decl = ports.map((q, i) => {
    const attrs = q.name === 'ap_clk'
      ? `  (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 ap_clk CLK", X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF ${busifs}, ASSOCIATED_RESET ap_rst_n" *)\n`
      : q.name === 'ap_rst_n'
        ? '  (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 ap_rst_n RST", X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)\n'
        : q.name === 'interrupt'
          ? '  (* X_INTERFACE_INFO = "xilinx.com:signal:interrupt:1.0 interrupt INTERRUPT", X_INTERFACE_PARAMETER = "SENSITIVITY LEVEL_HIGH" *)\n'
          : '';
    return `${attrs}  ${q.dir === 'in' ? 'input ' : 'output'} wire ${q.width > 1 ? `[${q.width - 1}:0] ` : ''}${q.name}${i + 1 < ports.length ? ',' : ''}`;
  });
  const params = rtlKernelParameters(build).map(([k, v]) => `.${k}(${v})`).join(', ');
  return [
    `// Generated by bitweave compile: ${RTL_TOP} (the bitweave RTL kernel, ${KERNEL_NAME}) for a Zynq block design.`,
    '// A Verilog module so IP integrator can reference it; the AXI interfaces are inferred from',
    '// the port names (s_axi_control_*, m_axi_gmemN_*).',
    'module bitweave_zynq (',
    ...decl,
    ');',
    `  ${RTL_TOP} #(${params}) u_kernel (`,
    ports.map((q, i) => `    .${q.name}(${q.name})${i + 1 < ports.length ? ',' : ''}`).join('\n'),
    '  );',
    'endmodule',
    '',
  ].join('\n');
}

/** build.tcl: vivado -mode batch -source build.tcl. */
export function zynqBuildTcl(board: Board, sources: string[], build: AxiKernelBuild, array: ArrayParams): string {
  const mhz = board.clock.kernelMHz ?? 100;
  const hp = AXI_MASTERS.map((m, i) => [m, `S_AXI_HP${i}`] as const);
  return `# Vivado project for ${board.title} (${board.part}), emitted by bitweave compile --board ${board.name}.
#   vivado -mode batch -source build.tcl          -> build/bitweave_${board.name}.bit and .hwh
# Steps: a project for ${board.part} with the kernel's RTL (the array package bitweave_array.svh
# generated for ${array.rows} x ${array.cols} PEs, the array, the AXI wrapper, the Verilog top
# bitweave_zynq.v); a block design with processing_system7 (FCLK_CLK0 ${mhz} MHz, AXI_HP0..2 at
# ${build.dataBits} bits), the kernel's s_axi_control on M_AXI_GP0 and its masters
# ${AXI_MASTERS.join(', ')} on ${hp.map(([, s]) => s).join(', ')}, its interrupt on IRQ_F2P;
# synthesis, implementation and write_bitstream. The PS's DDR and MIO settings come from the
# ${board.name} board files (Digilent's, installed in Vivado's board repository).
# Not run by bitweave: no Vivado where it was emitted.
set here [file normalize [file dirname [info script]]]
set out [file join $here build]
file mkdir $out
create_project -force bitweave_${board.name.replace(/-/g, '_')} [file join $out project] -part ${board.part}
set bp [lindex [get_board_parts -quiet -latest_file_version *${board.name}*] 0]
if {$bp eq ""} { error "bitweave: no ${board.name} board part in Vivado's board repository: install Digilent's board files (vivado-boards) first" }
set_property board_part $bp [current_project]
set sources [list \\
${['rtl/bitweave_array.svh', ...sources, 'rtl/bitweave_zynq.v'].map((f) => `  [file join $here ${f}] \\`).join('\n')}
]
add_files -norecurse $sources
set_property file_type SystemVerilog [get_files -filter {FILE_TYPE == Verilog && NAME =~ *.sv}]
set_property file_type SystemVerilog [get_files *bitweave_array.svh]
update_compile_order -fileset sources_1

create_bd_design system
set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 ps7]
apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 -config {make_external "FIXED_IO, DDR" apply_board_preset "1"} $ps
set_property -dict [list \\
  CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ {${mhz}} \\
  CONFIG.PCW_USE_M_AXI_GP0 {1} \\
${hp.map(([, s], i) => `  CONFIG.PCW_USE_S_AXI_HP${i} {1} CONFIG.PCW_S_AXI_HP${i}_DATA_WIDTH {${build.dataBits}} \\`).join('\n')}
  CONFIG.PCW_USE_FABRIC_INTERRUPT {1} CONFIG.PCW_IRQ_F2P_INTR {1} \\
] $ps
set k [create_bd_cell -type module -reference bitweave_zynq ${KERNEL_NAME}]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {Master "/ps7/M_AXI_GP0" Clk "/ps7/FCLK_CLK0 (${mhz} MHz)"} [get_bd_intf_pins ${KERNEL_NAME}/s_axi_control]
${hp.map(([m, s]) => `apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {Master "/${KERNEL_NAME}/${m}" Slave "/ps7/${s}" Clk "/ps7/FCLK_CLK0 (${mhz} MHz)"} [get_bd_intf_pins ps7/${s}]`).join('\n')}
connect_bd_net [get_bd_pins ${KERNEL_NAME}/interrupt] [get_bd_pins ps7/IRQ_F2P]
assign_bd_address
# the control registers: ${1 << AXI_CONTROL_ADDR_BITS} bytes (host/array/axi-kernel.ts)
validate_bd_design
save_bd_design
set bd [get_files system.bd]
generate_target all $bd
add_files -norecurse [make_wrapper -files $bd -top]
set_property top system_wrapper [current_fileset]
update_compile_order -fileset sources_1

launch_runs impl_1 -to_step write_bitstream -jobs 2
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} { error "bitweave: implementation did not finish (see [file join $out project])" }
open_run impl_1
report_utilization -file [file join $out utilization.txt]
report_timing_summary -file [file join $out timing.txt]
set impl [get_property DIRECTORY [get_runs impl_1]]
file copy -force [file join $impl system_wrapper.bit] [file join $out bitweave_${board.name}.bit]
set hwh [lindex [glob -nocomplain [file join [file dirname $bd] hw_handoff system.hwh]] 0]
if {$hwh ne ""} { file copy -force $hwh [file join $out bitweave_${board.name}.hwh] }
puts "bitweave: wrote [file join $out bitweave_${board.name}.bit]"
exit
`;
}

/** `bitweave compile <model> --board pynq-z1 -o <dir>`. */
export function emitZynqProject(model: CompiledModel, board: Board, outDir: string, opts: BoardBuildOptions = {}): BoardBuildResult {
  if (opts.kernel !== undefined && opts.kernel !== 'rtl') throw new BitweaveError(`--kernel ${opts.kernel}: board ${board.name} builds the RTL kernel only`);
  const { note, ...sized } = arrayFor(board, opts);
  const array: ArrayParams = { ...sized, drain: AXI_BUILD.drain };
  const segments = summariseSegments(model, array, AXI_BUILD.maxOutBits);
  const { build, ram, budget } = zynqKernelBuild(board, array);
  try {
    checkRtlKernelModel(model, array, build);
  } catch (e) {
    if (!(e instanceof BitweaveError)) throw e;
    throw new BitweaveError(`board ${board.name}: ${e.message.replace(/^--kernel rtl: /, '').replace(/ \(use --kernel hls\)$/, '')}`);
  }
  const rtl = rtlKernelFiles(board, array, build);
  const files: ProjectFiles = new Map();
  for (const [f, d] of rtl.files) if (f.startsWith('rtl/')) files.set(f, d);
  files.set('rtl/bitweave_zynq.v', zynqWrapper(build));
  files.set('build.tcl', zynqBuildTcl(board, rtl.sources, build, array));
  const base = model.name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '') || 'model';
  const modelFile = `model/${base}.bnn`;
  files.set(modelFile, encodeBnn(model));
  const commands = { bitstream: 'vivado -mode batch -source build.tcl   # synthesis, implementation, bitstream (tens of minutes)' };
  files.set('README.md', [
    `# bitweave for ${board.title}`,
    '',
    `Emitted by \`bitweave compile\` for model \`${model.name}\`: the bitweave RTL kernel (\`${RTL_TOP}\`,`,
    `array ${array.rows} x ${array.cols}, ${build.dataBits}-bit AXI masters) in a Zynq block design.`,
    '',
    '```sh',
    commands.bitstream,
    '```',
    '',
    `needs Vivado with the ${board.name} board files (Digilent's vivado-boards) and writes \`build/bitweave_${board.name}.bit\``,
    'and its `.hwh` (a PYNQ overlay). The kernel\'s s_axi_control sits on M_AXI_GP0 (its address is in the',
    `block design's address map), its masters ${AXI_MASTERS.join(', ')} on S_AXI_HP0..2, its interrupt on IRQ_F2P.`,
    'A host drives it as XRT drives the Vitis kernel: write the layer program, weights, parameters and each',
    "image's inputs into DDR buffers, set the argument registers (host/array/axi-kernel.ts), set ap_start, wait for",
    'ap_done. bitweave has no Zynq host driver yet, and none of this has run: no Vivado where it was emitted.',
    '',
    `On-chip memories of this build (${ram.bram36} of the ${budget.bram36} RAMB36 it may use): ${build.descDepth} descriptor words, ${build.paramDepth} parameter words per PE row,`,
    `${build.weightRows} weight rows of ${array.rows} words, ${build.arenaWords} arena words per PE column.`,
    '',
    segmentTable(segments),
    '',
  ].join('\n'));
  const manifest = {
    generator: 'bitweave compile',
    commandLine: opts.commandLine ?? null,
    board: board.name,
    title: board.title,
    toolchain: board.toolchain,
    platform: board.platform,
    array,
    arrayNote: note,
    kernel: { name: KERNEL_NAME, top: RTL_TOP, wrapper: 'rtl/bitweave_zynq.v' },
    axiBuild: build,
    onChipRam: { ...ram, budget },
    model: { name: model.name, file: modelFile, source: model.source },
    segments,
    commands,
  };
  const written = writeProject(outDir, files, manifest, opts.force ?? false);
  return {
    board: board.name,
    toolchain: board.toolchain.name,
    outDir: path.resolve(outDir),
    array,
    arrayNote: note,
    kernel: `rtl (${RTL_TOP} in a Zynq block design: build.tcl)`,
    files: written,
    segments,
    commands,
  };
}
