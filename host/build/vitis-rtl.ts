/**
 * The RTL array as a Vitis RTL kernel: what `bitweave compile --board aws-f1|alveo-* --kernel rtl`
 * adds to a Vitis project (host/build/vitis.ts writes the rest: config, Makefile, README).
 *
 *   rtl/                   the SystemVerilog sources of sim/bw_top.f and sim/axi/bw_axi_kernel.f and
 *                          bitweave_array.svh, the array package generated for the board's array
 *   kernel.xml             the kernel description: the s_axi_control register map and the m_axi ports
 *   package_xo.tcl         vivado -mode batch -source package_xo.tcl -tclargs <xo>: packages the
 *                          sources as an IP (ipx::) and the IP as bitweave_array.xo (package_xo)
 *
 * What this follows (AMD UG1393, "RTL Kernels"; the same text is UG1700/UG1702 in 2024.2+):
 *  - "Kernel Interface Requirements": one clock (ap_clk), an optional active-low reset
 *    (ap_rst_n) associated with it, an optional active-high `interrupt`, exactly one AXI4-Lite
 *    slave `s_axi_control`, AXI4 masters with 64-bit addresses; every port in an interface.
 *  - "Control Requirements for XRT-Managed Kernels": ap_ctrl_hs, control at 0x00, GIE 0x04,
 *    IER 0x08, ISR 0x0C, arguments from 0x10 (the offsets are host/array/axi-kernel.ts's).
 *  - "Packaging the RTL Code as a Vivado IP": S_AXI_CONTROL packaged as the AXI4-Lite slave,
 *    ap_clk associated with every interface and ASSOCIATED_RESET ap_rst_n, the IP marked
 *    sdx_kernel / sdx_kernel_type rtl, and the pointer registers naming their master
 *    (ASSOCIATED_BUSIF) so v++ can connect them.
 *  - "RTL Kernel XML File" and "package_xo Command": kernel.xml (root versionMajor 1,
 *    versionMinor 6; one <port> per interface, one <arg> per argument with id, offset, size,
 *    port and addressQualifier 0 scalar / 1 global pointer) handed to
 *    `package_xo -kernel_xml kernel.xml -kernel_name … -ip_directory … -xo_path …`.
 *  - RTL kernels have no software emulation without a C model ("RTL Kernel Development
 *    Flow"), so the project offers hw_emu and hw only.
 *
 *
 * The pages (AMD documentation portal; the 2024.2+ releases moved them to UG1700/UG1702):
 *   https://docs.amd.com/r/2023.2-English/ug1393-vitis-application-acceleration/Kernel-Interface-Requirements
 *   https://docs.amd.com/r/2023.1-English/ug1393-vitis-application-acceleration/Control-Requirements-for-XRT-Managed-Kernels
 *   https://docs.amd.com/r/2020.2-English/ug1393-vitis-application-acceleration/Package-the-RTL-Code-as-a-Vivado-IP
 *   https://docs.amd.com/r/2020.2-English/ug1393-vitis-application-acceleration/RTL-Kernel-XML-File
 *   https://docs.amd.com/r/2022.1-English/ug1393-vitis-application-acceleration/package_xo-Command
 *   https://docs.amd.com/r/2020.2-English/ug1393-vitis-application-acceleration/RTL-Kernel-Development-Flow
 *
 * The interface (ports, register map, build parameters) comes from host/array/axi-kernel.ts;
 * nothing is restated here. Nothing here runs Vivado: the emitted project has not been
 * packaged or linked by bitweave (no Vivado or Vitis where it is developed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board } from '../boards';
import { BitweaveError } from '../core/errors';
import { formatBytes } from '../core/text';
import { packageRoot } from '../core/paths';
import { CompiledModel } from '../compile/model';
import { ArrayParams, DESC_WORDS } from '../array/params';
import { encodeSegment, LayerProgram } from '../array/program';
import { targetModel } from '../array/zero-pad';
import { checkProgram, rtlLimits } from '../array/descriptor';
import { arrayHeaderSv } from '../array/header';
import { wideWeights } from '../array/wide';
import {
  AXI_BUILD, AXI_CONTROL_ADDR_BITS, AXI_KERNEL_ARGS, AXI_MASTERS, AxiKernelBuild, DEFAULT_AXI_BUILD, KERNEL_NAME,
} from '../array/axi-kernel';
import { readFileList } from './open-flow';
import { ProjectFiles } from './project';

/**
 * The RTL kernel's file lists, relative to the package root, in compile order: the array's
 * own (sim/bw_top.f), then the AXI wrapper's (sim/axi/bw_axi_kernel.f, which follows it).
 */
export const RTL_ARRAY_FILE_LIST = 'sim/bw_top.f';
export const RTL_KERNEL_FILE_LIST = 'sim/axi/bw_axi_kernel.f';
/** The kernel's top module. */
export const RTL_TOP = 'bw_axi_kernel';
/** The packaged IP's vendor:library:name:version (kernel.xml's vlnv must be the IP's). */
export const RTL_IP = { vendor: 'bitweave', library: 'kernel', name: KERNEL_NAME, version: '1.0' } as const;
export const RTL_VLNV = `${RTL_IP.vendor}:${RTL_IP.library}:${RTL_IP.name}:${RTL_IP.version}`;

/** One port of bw_axi_kernel. */
export interface RtlPort {
  name: string;
  dir: 'in' | 'out';
  /** Bits. */
  width: number;
  /** The interface it belongs to (ap_clk, ap_rst_n, interrupt, s_axi_control, m_axi_gmemN). */
  iface: string;
}

const AXIL_SIGNALS: [string, 'in' | 'out', number | 'addr' | 'data' | 'strb'][] = [
  ['AWVALID', 'in', 1], ['AWREADY', 'out', 1], ['AWADDR', 'in', 'addr'],
  ['WVALID', 'in', 1], ['WREADY', 'out', 1], ['WDATA', 'in', 'data'], ['WSTRB', 'in', 'strb'],
  ['BVALID', 'out', 1], ['BREADY', 'in', 1], ['BRESP', 'out', 2],
  ['ARVALID', 'in', 1], ['ARREADY', 'out', 1], ['ARADDR', 'in', 'addr'],
  ['RVALID', 'out', 1], ['RREADY', 'in', 1], ['RDATA', 'out', 'data'], ['RRESP', 'out', 2],
];

/** AXI4 master signals (no IDs), direction as seen from the kernel. */
const AXI4_SIGNALS: [string, 'in' | 'out', number | 'addr' | 'data' | 'strb'][] = [
  ['AWVALID', 'out', 1], ['AWREADY', 'in', 1], ['AWADDR', 'out', 'addr'], ['AWLEN', 'out', 8], ['AWSIZE', 'out', 3], ['AWBURST', 'out', 2],
  ['WVALID', 'out', 1], ['WREADY', 'in', 1], ['WDATA', 'out', 'data'], ['WSTRB', 'out', 'strb'], ['WLAST', 'out', 1],
  ['BVALID', 'in', 1], ['BREADY', 'out', 1], ['BRESP', 'in', 2],
  ['ARVALID', 'out', 1], ['ARREADY', 'in', 1], ['ARADDR', 'out', 'addr'], ['ARLEN', 'out', 8], ['ARSIZE', 'out', 3], ['ARBURST', 'out', 2],
  ['RVALID', 'in', 1], ['RREADY', 'out', 1], ['RDATA', 'in', 'data'], ['RLAST', 'in', 1], ['RRESP', 'in', 2],
];

/** Why a kernel build is unusable, or null. */
export function axiBuildProblem(b: AxiKernelBuild): string | null {
  const pow2 = (v: number) => Number.isInteger(v) && v > 0 && (v & (v - 1)) === 0;
  if (!pow2(b.dataBits) || b.dataBits < 64 || b.dataBits > 512) return `DATA_BITS = ${b.dataBits} must be a power of two in 64..512`;
  if (!Number.isInteger(b.maxBurst) || b.maxBurst < 1 || b.maxBurst > 256) return `MAX_BURST = ${b.maxBurst} must be in 1..256`;
  if (!Number.isInteger(b.outstanding) || b.outstanding < 1 || b.outstanding > 64) return `OUTSTANDING = ${b.outstanding} must be in 1..64`;
  for (const k of ['descDepth', 'paramDepth', 'weightRows', 'arenaWords'] as const) {
    if (!Number.isInteger(b[k]) || b[k] < 1) return `${k} = ${b[k]} must be a positive integer`;
  }
  return null;
}

/** Every port of bw_axi_kernel for a build, in interface order (the spec of host/array/axi-kernel.ts). */
export function rtlKernelPorts(build: AxiKernelBuild = DEFAULT_AXI_BUILD): RtlPort[] {
  const ports: RtlPort[] = [
    { name: 'ap_clk', dir: 'in', width: 1, iface: 'ap_clk' },
    { name: 'ap_rst_n', dir: 'in', width: 1, iface: 'ap_rst_n' },
    { name: 'interrupt', dir: 'out', width: 1, iface: 'interrupt' },
  ];
  const width = (w: number | 'addr' | 'data' | 'strb', addr: number, data: number) => (w === 'addr' ? addr : w === 'data' ? data : w === 'strb' ? data / 8 : w);
  for (const [sig, dir, w] of AXIL_SIGNALS) ports.push({ name: `s_axi_control_${sig}`, dir, width: width(w, AXI_CONTROL_ADDR_BITS, 32), iface: 's_axi_control' });
  for (const m of AXI_MASTERS) for (const [sig, dir, w] of AXI4_SIGNALS) ports.push({ name: `${m}_${sig}`, dir, width: width(w, 64, build.dataBits), iface: m });
  return ports;
}

/** bw_axi_kernel's module parameters for a build and array. */
export function rtlKernelParameters(build: AxiKernelBuild): [string, number][] {
  return [
    ['DATA_BITS', build.dataBits],
    ['OUTSTANDING', build.outstanding],
    ['MAX_BURST', build.maxBurst],
    ['DESC_DEPTH', build.descDepth],
    ['PARAM_DEPTH', build.paramDepth],
    ['WEIGHT_ROWS', build.weightRows],
    ['ARENA_WORDS', build.arenaWords],
  ];
}

const hex = (v: number) => `0x${v.toString(16)}`;
const xmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** kernel.xml for package_xo (UG1393 "RTL Kernel XML File"). */
export function kernelXml(build: AxiKernelBuild = DEFAULT_AXI_BUILD): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${KERNEL_NAME}: the bitweave RTL array (${RTL_TOP}) as an XRT-managed Vitis RTL kernel (ap_ctrl_hs). Emitted by bitweave from host/array/axi-kernel.ts. -->`,
    '<root versionMajor="1" versionMinor="6">',
    `  <kernel name="${KERNEL_NAME}" language="ip_c" vlnv="${RTL_VLNV}" attributes="" preferredWorkGroupSizeMultiple="0" workGroupSize="1" interrupt="true" hwControlProtocol="ap_ctrl_hs">`,
    '    <ports>',
    `      <port name="s_axi_control" mode="slave" range="${hex(1 << AXI_CONTROL_ADDR_BITS)}" dataWidth="32" portType="addressable" base="0x0"/>`,
    ...AXI_MASTERS.map((m) => `      <port name="${m}" mode="master" range="0xFFFFFFFFFFFFFFFF" dataWidth="${build.dataBits}" portType="addressable" base="0x0"/>`),
    '    </ports>',
    '    <args>',
    ...AXI_KERNEL_ARGS.map((a, id) =>
      `      <arg name="${a.name}" addressQualifier="${a.master ? 1 : 0}" id="${id}" port="${a.master ?? 's_axi_control'}" size="${hex(a.size)}" offset="${hex(a.offset)}" type="${xmlAttr(a.type)}" hostOffset="0x0" hostSize="${hex(a.size)}"/>`),
    '    </args>',
    '  </kernel>',
    '</root>',
  ];
  return lines.join('\n') + '\n';
}

/**
 * The sources of the kernel from its file lists (default: the array's, then the wrapper's):
 * paths relative to the package root in compile order, checked to exist.
 */
export function rtlKernelSources(fileLists: string[] = [RTL_ARRAY_FILE_LIST, RTL_KERNEL_FILE_LIST], root = packageRoot()): { lists: string[]; files: string[] } {
  const files: string[] = [];
  const seen = new Set<string>();
  for (const fileList of fileLists) {
    if (!fs.existsSync(path.resolve(root, fileList))) {
      throw new BitweaveError(`--kernel rtl: the file list ${fileList} is missing from this bitweave (use --kernel hls)`);
    }
    const listed = readFileList(fileList);
    if (listed.length === 0) throw new BitweaveError(`--kernel rtl: the file list ${fileList} names no file`);
    for (const f of listed) {
      if (!fs.existsSync(path.resolve(root, f))) throw new BitweaveError(`--kernel rtl: ${f} (listed in ${fileList}) does not exist`);
      const base = path.basename(f);
      if (seen.has(base)) throw new BitweaveError(`--kernel rtl: two sources named ${base} in ${fileLists.join(', ')}`);
      seen.add(base);
      files.push(f);
    }
  }
  return { lists: fileLists, files };
}

/** vivado -mode batch -source package_xo.tcl -tclargs <xo>: the IP and the .xo. */
export function packageXoTcl(board: Board, sources: string[], build: AxiKernelBuild, array: ArrayParams): string {
  const regs = AXI_KERNEL_ARGS.map((a) => `  {${a.name} ${hex(a.offset)} ${a.size * 8} ${a.master ?? '{}'}}`).join('\n');
  const params = rtlKernelParameters(build).map(([k, v]) => `${k} ${v}`).join(' ');
  return `# Packages the bitweave RTL array as the Vitis RTL kernel ${KERNEL_NAME} (emitted by bitweave for ${board.name}).
#   vivado -mode batch -source package_xo.tcl -tclargs <out.xo>       (the Makefile's 'xo' target)
# Steps (AMD UG1393, "RTL Kernels": "Packaging the RTL Code as a Vivado IP", "package_xo Command"):
#   1. a project for part ${board.part} with the sources in compile order (the array package
#      bitweave_array.svh first, generated for ${array.rows} x ${array.cols} PEs), top ${RTL_TOP};
#   2. ipx::package_project: the IP ${RTL_VLNV} with the module parameters of this build;
#   3. interfaces: ap_clk (ASSOCIATED_BUSIF every AXI interface, ASSOCIATED_RESET ap_rst_n), the
#      AXI4-Lite slave s_axi_control with one register per kernel argument, the AXI4 masters
#      ${AXI_MASTERS.join(', ')}, the active-high interrupt;
#   4. marked as a Vitis kernel (sdx_kernel, sdx_kernel_type rtl), checked, saved;
#   5. package_xo with kernel.xml (the register map of host/array/axi-kernel.ts).
# Not run by bitweave: no Vivado where it was emitted.
set here [file normalize [file dirname [info script]]]
if {[llength $argv] >= 1} { set xo [file normalize [lindex $argv 0]] } else { set xo [file join $here build ${KERNEL_NAME}.xo] }
set work [file join [file dirname $xo] package_xo]
set ipdir [file join $work ip]
file delete -force $work
file mkdir $work

create_project -force bitweave_pkg [file join $work project] -part {${board.part}}
set sources [list \\
${['rtl/bitweave_array.svh', ...sources].map((f) => `  [file join $here ${f}] \\`).join('\n')}
]
add_files -norecurse $sources
# the package is a .svh: make Vivado compile it as SystemVerilog, not include it as a header
set_property file_type SystemVerilog [get_files -of_objects [get_filesets sources_1]]
set_property top ${RTL_TOP} [get_filesets sources_1]
update_compile_order -fileset sources_1

ipx::package_project -root_dir $ipdir -vendor ${RTL_IP.vendor} -library ${RTL_IP.library} -taxonomy /KernelIP -import_files -set_current false
ipx::unload_core [file join $ipdir component.xml]
ipx::edit_ip_in_project -upgrade true -name bitweave_edit -directory [file join $work edit] [file join $ipdir component.xml]
set core [ipx::current_core]
set_property name ${RTL_IP.name} $core
set_property version ${RTL_IP.version} $core
set_property display_name {bitweave binary neural network array} $core
set_property core_revision 1 $core

# module parameters of this build (host/array/axi-kernel.ts AxiKernelBuild)
foreach {name value} {${params}} {
  set p [ipx::get_user_parameters $name -of_objects $core]
  if {$p eq ""} { error "bw_axi_kernel has no parameter $name" }
  set_property value $value $p
  set_property value $value [ipx::get_hdl_parameters $name -of_objects $core]
}

# interfaces: AXI by their port prefixes, the clock with every interface and the reset
foreach busif {s_axi_control ${AXI_MASTERS.join(' ')}} {
  if {[ipx::get_bus_interfaces $busif -of_objects $core] eq ""} {
    ipx::infer_bus_interfaces xilinx.com:interface:aximm_rtl:1.0 $core
  }
  if {[ipx::get_bus_interfaces $busif -of_objects $core] eq ""} { error "no AXI interface $busif inferred from the ports" }
}
set_property interface_mode slave [ipx::get_bus_interfaces s_axi_control -of_objects $core]
foreach m {${AXI_MASTERS.join(' ')}} { set_property interface_mode master [ipx::get_bus_interfaces $m -of_objects $core] }
ipx::infer_bus_interface ap_clk xilinx.com:signal:clock_rtl:1.0 $core
ipx::infer_bus_interface ap_rst_n xilinx.com:signal:reset_rtl:1.0 $core
ipx::infer_bus_interface interrupt xilinx.com:signal:interrupt_rtl:1.0 $core
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk -reset ap_rst_n $core
foreach m {${AXI_MASTERS.join(' ')}} { ipx::associate_bus_interfaces -busif $m -clock ap_clk -reset ap_rst_n $core }
set rst [ipx::get_bus_interfaces ap_rst_n -of_objects $core]
set pol [ipx::get_bus_parameters POLARITY -of_objects $rst]
if {$pol eq ""} { set pol [ipx::add_bus_parameter POLARITY $rst] }
set_property value ACTIVE_LOW $pol
set irq [ipx::get_bus_interfaces interrupt -of_objects $core]
set sens [ipx::get_bus_parameters SENSITIVITY -of_objects $irq]
if {$sens eq ""} { set sens [ipx::add_bus_parameter SENSITIVITY $irq] }
set_property value LEVEL_HIGH $sens

# the control register map: one register per kernel argument, pointers naming their master
set mm [ipx::get_memory_maps s_axi_control -of_objects $core]
if {$mm eq ""} { set mm [ipx::add_memory_map s_axi_control $core] }
set_property slave_memory_map_ref s_axi_control [ipx::get_bus_interfaces s_axi_control -of_objects $core]
set blk [ipx::add_address_block reg0 $mm]
set_property range ${1 << AXI_CONTROL_ADDR_BITS} $blk
set_property width 32 $blk
set_property usage register $blk
foreach {name offset size} {CTRL 0x0 32 GIER 0x4 32 IP_IER 0x8 32 IP_ISR 0xc 32} {
  set r [ipx::add_register $name $blk]
  set_property address_offset $offset $r
  set_property size $size $r
}
foreach arg {
${regs}
} {
  lassign $arg name offset size master
  set r [ipx::add_register $name $blk]
  set_property address_offset $offset $r
  set_property size $size $r
  if {$master ne ""} { set_property value $master [ipx::add_register_parameter ASSOCIATED_BUSIF $r] }
}

# a Vitis RTL kernel (XRT-managed, ap_ctrl_hs)
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property ipi_drc {ignore_freq_hz true} $core
set_property vitis_drc {ctrl_protocol ap_ctrl_hs} $core
ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity -kernel $core
ipx::save_core $core
close_project
close_project

package_xo -force -xo_path $xo -kernel_name ${KERNEL_NAME} -ip_directory $ipdir -kernel_xml [file join $here kernel.xml]
puts "bitweave: wrote $xo"
exit
`;
}

/** Bytes of the kernel's on-chip memories a program needs and the build holds, per memory. */
export interface RtlMemoryNeed {
  memory: string;
  need: number;
  held: number;
}

/**
 * What one layer program needs of the kernel's on-chip memories (the program is staged in
 * them before it runs): descriptors, parameters, weights in wide rows of ROWS words (W_OFF
 * in rows, as host/board/layout.ts lays a program out for the SoC) and one image's arena.
 */
export function rtlMemoryNeeds(prog: LayerProgram, rows: number, build: AxiKernelBuild): RtlMemoryNeed[] {
  const weightRows = wideWeights(prog, rows).rows;
  return [
    { memory: 'descriptor memory', need: prog.layers * DESC_WORDS * 4, held: build.descDepth * 4 },
    { memory: 'parameter memory', need: prog.params.length * 4, held: build.paramDepth * 4 },
    { memory: 'weight memory', need: weightRows * rows * 8, held: build.weightRows * rows * 8 },
    { memory: 'arena (one image)', need: prog.arenaWords * 8, held: build.arenaWords * 8 },
  ];
}

/**
 * Refuses, with one line, a model the RTL kernel cannot run: layers the array build cannot
 * compute (AXI_BUILD: 1-bit threshold outputs; `checkProgram` with `rtlLimits`) or a
 * program bigger than the kernel's on-chip memories (bytes needed and held). The device
 * segments are checked as the host runs them: cut before zero-padded convs (targetModel).
 */
export function checkRtlKernelModel(source: CompiledModel, array: ArrayParams, build: AxiKernelBuild): void {
  const limits = { ...rtlLimits({ rows: array.rows, accBits: array.accBits, maxOutBits: AXI_BUILD.maxOutBits }), target: 'the RTL kernel' };
  const model = targetModel(source, AXI_BUILD.maxOutBits);
  model.segments.forEach((s, si) => {
    if (s.kind !== 'device') return;
    const p = encodeSegment(model, si, array);
    p.layerDescriptors.forEach((d, l) => {
      if (d.threshold && d.OUT_BITS > AXI_BUILD.maxOutBits) {
        throw new BitweaveError(`--kernel rtl: layer '${model.opNames[s.start + l]}' has ${d.OUT_BITS}-bit outputs; the RTL kernel computes ${AXI_BUILD.maxOutBits}-bit outputs only (use --kernel hls)`);
      }
    });
    checkProgram(p.descriptors, p.layers, limits, { weightWords: p.weights.length / 2, paramEntries: p.params.length, arenaWords: p.arenaWords }, '--kernel rtl', (l) => `layer '${model.opNames[s.start + l]}'`);
    for (const m of rtlMemoryNeeds(p, array.rows, build)) {
      if (m.need > m.held) {
        const b = (n: number) => (/\d bytes?$/.test(formatBytes(n)) ? formatBytes(n) : `${formatBytes(n)} (${n} bytes)`);
        throw new BitweaveError(`--kernel rtl: device segment ${si} needs ${b(m.need)} of the kernel's ${m.memory}, the build holds ${b(m.held)}`);
      }
    }
  });
}

/** The files of the RTL kernel in a project: rtl/ sources, the package, kernel.xml, package_xo.tcl. */
export function rtlKernelFiles(board: Board, array: ArrayParams, build: AxiKernelBuild, fileLists?: string[]): { files: ProjectFiles; sources: string[] } {
  const problem = axiBuildProblem(build);
  if (problem) throw new BitweaveError(`--kernel rtl: ${problem}`);
  const root = packageRoot();
  const { files: list } = rtlKernelSources(fileLists, root);
  const files: ProjectFiles = new Map();
  const sources: string[] = [];
  for (const f of list) {
    const rel = `rtl/${path.basename(f)}`;
    files.set(rel, fs.readFileSync(path.resolve(root, f), 'utf8'));
    sources.push(rel);
  }
  files.set('rtl/bitweave_array.svh', arrayHeaderSv(array));
  files.set('kernel.xml', kernelXml(build));
  files.set('package_xo.tcl', packageXoTcl(board, sources, build, array));
  return { files, sources };
}
