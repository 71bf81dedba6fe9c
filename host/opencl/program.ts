/**
 * Programs from OpenCL C source or from device binaries (xclbin for XRT, aocx for Intel
 * FPGA runtimes, PoCL's own binaries), their builds and build logs, and kernel creation.
 */
import { cl } from './api';
import * as C from './constants';
import { Context } from './context';
import { BuildProgramError, check, clErrorName, OpenCLError, OpenCLUsageError } from './errors';
import { CLHandle, HandleState } from './handle';
import { InfoFn, infoHandles, infoI32, infoSizeArray, infoString } from './info';
import { addressOf } from './host';
import { Kernel } from './kernel';
import { Device } from './platform';
import { handleArray, hostWidths, sizeArray } from './widths';

export interface BuildOptions {
  /** Compiler options, e.g. "-cl-std=CL1.2 -DROWS=8". */
  options?: string;
  /** Devices to build for (default: all of the context's). */
  devices?: readonly Device[];
}

export interface DeviceBinary {
  device: Device;
  binary: Uint8Array;
}

export type BuildStatus = 'success' | 'none' | 'error' | 'in-progress';

function freeProgram(s: HandleState): void {
  cl().clReleaseProgram(s.handle);
}

/** Build options go to a C string: refuse NUL, which would silently truncate them. */
function checkOptions(options: string): void {
  if (typeof options !== 'string') throw new OpenCLUsageError('build options must be a string');
  if (options.includes('\0')) throw new OpenCLUsageError('build options contain a NUL character');
}

export class Program extends CLHandle {
  private constructor(
    handle: bigint,
    readonly context: Context,
    /** The options of the last build. */
    public options = '',
  ) {
    super({ handle, released: false, free: freeProgram }, 'OpenCL program');
  }

  private devicesFor(what: string, devices?: readonly Device[]): Device[] {
    const list = devices ? [...devices] : [...this.context.devices];
    if (list.length === 0) throw new OpenCLUsageError(`${what}: no device given`);
    for (const d of list) if (!(d instanceof Device) || !this.context.hasDevice(d)) throw new OpenCLUsageError(`${what}: device '${d}' is not in the program's context`);
    return list;
  }

  /** Creates a program from OpenCL C source and builds it; a failed build throws BuildProgramError with the log. */
  static fromSource(ctx: Context, source: string | readonly string[], opts: BuildOptions = {}): Program {
    const parts = typeof source === 'string' ? [source] : [...source];
    if (parts.length === 0 || parts.some((s) => typeof s !== 'string')) throw new OpenCLUsageError('Program.fromSource: source must be a string or an array of strings');
    if (parts.some((s) => s.includes('\0'))) throw new OpenCLUsageError('Program.fromSource: source contains a NUL character');
    const err = new Int32Array(1);
    const h = cl().clCreateProgramWithSource(ctx.handle, parts.length, parts, null, err);
    if (err[0] !== 0 || !h) throw new OpenCLError('clCreateProgramWithSource', err[0] || -6);
    const p = new Program(h, ctx);
    try {
      p.build(opts);
    } catch (e) {
      p.release();
      throw e;
    }
    return p;
  }

  /**
   * Creates a program from device binaries and builds it (OpenCL requires the build step
   * even for binaries). `binaries` is one binary for every context device, or a list of
   * { device, binary }. A binary a device rejects throws OpenCLError naming each device's status.
   */
  static fromBinary(ctx: Context, binaries: Uint8Array | readonly DeviceBinary[], opts: { options?: string } = {}): Program {
    const list: DeviceBinary[] = binaries instanceof Uint8Array ? ctx.devices.map((device) => ({ device, binary: binaries })) : [...binaries];
    if (list.length === 0) throw new OpenCLUsageError('Program.fromBinary: no binary given');
    for (const { device, binary } of list) {
      if (!(device instanceof Device) || !ctx.hasDevice(device)) throw new OpenCLUsageError(`Program.fromBinary: device '${device}' is not in the context`);
      if (!(binary instanceof Uint8Array) || binary.byteLength === 0) throw new OpenCLUsageError(`Program.fromBinary: the binary for '${device}' is empty or not a Uint8Array`);
    }
    if (new Set(list.map((b) => b.device.id)).size !== list.length) throw new OpenCLUsageError('Program.fromBinary: a device is listed twice');
    const w = hostWidths();
    const devices = handleArray(list.map((b) => b.device.id), w);
    const lengths = sizeArray(list.map((b) => b.binary.byteLength), w);
    // pointers into the Uint8Arrays: valid for the duration of this synchronous call
    const pointers = handleArray(list.map((b) => addressOf(b.binary)), w);
    const status = new Int32Array(list.length);
    const err = new Int32Array(1);
    const h = cl().clCreateProgramWithBinary(ctx.handle, list.length, devices, lengths, pointers, status, err);
    if (err[0] !== 0 || !h) {
      const per = list.map((b, i) => `'${b.device.name}': ${clErrorName(status[i])}`).join(', ');
      throw new OpenCLError('clCreateProgramWithBinary', err[0] || -6, `per-device status ${per}`);
    }
    const p = new Program(h, ctx);
    try {
      p.build({ options: opts.options, devices: list.map((b) => b.device) });
    } catch (e) {
      p.release();
      throw e;
    }
    return p;
  }

  /** (Re)builds for `devices`; throws BuildProgramError with every failing device's log. */
  build(opts: BuildOptions = {}): void {
    const options = opts.options ?? '';
    checkOptions(options);
    const devices = this.devicesFor('Program.build', opts.devices);
    const ids = handleArray(devices.map((d) => d.id), hostWidths());
    const st = cl().clBuildProgram(this.handle, devices.length, ids, options, null, null);
    this.options = options;
    if (st === 0) return;
    if (st === -11 /* CL_BUILD_PROGRAM_FAILURE */ || st === -43 /* CL_INVALID_BUILD_OPTIONS */) {
      const logs = devices
        .map((d) => ({ d, log: this.safeLog(d).trim() }))
        .filter((x) => x.log.length > 0)
        .map((x) => (devices.length > 1 ? `[${x.d.name}]\n${x.log}` : x.log));
      throw new BuildProgramError('clBuildProgram', st, logs.join('\n'), options);
    }
    check('clBuildProgram', st);
  }

  private buildInfoFn(device: Device): InfoFn {
    const h = this.handle;
    return (name, size, value, sizeRet) => cl().clGetProgramBuildInfo(h, device.id, name, size, value, sizeRet);
  }

  private safeLog(device: Device): string {
    try {
      return this.buildLog(device);
    } catch {
      return '';
    }
  }

  /** The compiler's log for `device` (empty when the build printed nothing). */
  buildLog(device: Device): string {
    this.devicesFor('Program.buildLog', [device]);
    return infoString('clGetProgramBuildInfo', this.buildInfoFn(device), C.CL_PROGRAM_BUILD_LOG);
  }

  buildStatus(device: Device): BuildStatus {
    this.devicesFor('Program.buildStatus', [device]);
    const st = infoI32('clGetProgramBuildInfo', this.buildInfoFn(device), C.CL_PROGRAM_BUILD_STATUS);
    return st === 0 ? 'success' : st === -2 ? 'error' : st === -3 ? 'in-progress' : 'none';
  }

  private get fn(): InfoFn {
    const h = this.handle;
    return (name, size, value, sizeRet) => cl().clGetProgramInfo(h, name, size, value, sizeRet);
  }

  /** The kernels a built program defines. */
  kernelNames(): string[] {
    return infoString('clGetProgramInfo', this.fn, C.CL_PROGRAM_KERNEL_NAMES).split(';').map((s) => s.trim()).filter(Boolean);
  }

  /** The program's devices, in CL_PROGRAM_DEVICES order. */
  devices(): Device[] {
    const ids = infoHandles('clGetProgramInfo', this.fn, C.CL_PROGRAM_DEVICES);
    return ids.map((id) => {
      const d = this.context.devices.find((x) => x.id === id);
      if (!d) throw new OpenCLUsageError('program reports a device outside its context');
      return d;
    });
  }

  /**
   * The built binary of each device (CL_PROGRAM_BINARIES): what Program.fromBinary accepts.
   * Devices without a binary (not built for) are left out.
   */
  binaries(): DeviceBinary[] {
    const devices = this.devices();
    const sizes = infoSizeArray('clGetProgramInfo', this.fn, C.CL_PROGRAM_BINARY_SIZES);
    if (sizes.length !== devices.length) throw new OpenCLUsageError(`program reports ${sizes.length} binary sizes for ${devices.length} devices`);
    const out = sizes.map((n) => new Uint8Array(n));
    // one char* per device, each pointing at a buffer of exactly the reported size; NULL skips
    const pointers = handleArray(out.map((b) => (b.byteLength > 0 ? addressOf(b) : 0n)), hostWidths());
    check('clGetProgramInfo', cl().clGetProgramInfo(this.handle, C.CL_PROGRAM_BINARIES, pointers.byteLength, pointers, null));
    return devices.map((device, i) => ({ device, binary: out[i] })).filter((b) => b.binary.byteLength > 0);
  }

  /** A kernel of this program by name. */
  createKernel(name: string): Kernel {
    if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) throw new OpenCLUsageError(`invalid kernel name ${JSON.stringify(name)}`);
    const err = new Int32Array(1);
    const h = cl().clCreateKernel(this.handle, name, err);
    if (err[0] !== 0 || !h) {
      let known = '';
      try {
        known = ` (the program defines: ${this.kernelNames().join(', ') || 'none'})`;
      } catch {
        // kernel names need a built program; the CL error already says what is wrong
      }
      throw new OpenCLError(`clCreateKernel('${name}')`, err[0] || -6, err[0] === -46 ? `no kernel named '${name}'${known}` : undefined);
    }
    try {
      return new Kernel(h);
    } catch (e) {
      cl().clReleaseKernel(h);
      throw e;
    }
  }
}
