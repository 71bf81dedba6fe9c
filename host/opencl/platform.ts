/**
 * Platforms and devices: enumeration, info queries and selection by name / vendor
 * substring and device type. Root platform and device ids are not reference counted in
 * OpenCL 1.2, so these wrappers own nothing and need no release.
 */
import { cl, Ptr } from './api';
import * as C from './constants';
import { check, OpenCLError, OpenCLUnavailableError, OpenCLUsageError } from './errors';
import { InfoFn, infoBool, infoSize, infoSizeArray, infoString, infoU32, infoU64 } from './info';
import { decodeWords, hostWidths } from './widths';

export type DeviceTypeName = 'default' | 'cpu' | 'gpu' | 'accelerator' | 'custom';

const TYPE_BITS: ReadonlyArray<[DeviceTypeName, bigint]> = [
  ['default', C.CL_DEVICE_TYPE_DEFAULT],
  ['cpu', C.CL_DEVICE_TYPE_CPU],
  ['gpu', C.CL_DEVICE_TYPE_GPU],
  ['accelerator', C.CL_DEVICE_TYPE_ACCELERATOR],
  ['custom', C.CL_DEVICE_TYPE_CUSTOM],
];

const INSTALL_HINT =
  "install an OpenCL platform: 'make setup' installs PoCL (Debian packages ocl-icd-libopencl1 pocl-opencl-icd); " +
  'on boards, XRT (Xilinx) or the Intel FPGA runtime with its ICD file in /etc/OpenCL/vendors';

export interface PlatformInfo {
  name: string;
  vendor: string;
  version: string;
  profile: string;
  extensions: string[];
}

export class Platform {
  private cached?: PlatformInfo;
  constructor(readonly id: Ptr) {}

  private get fn(): InfoFn {
    return (name, size, value, sizeRet) => cl().clGetPlatformInfo(this.id, name, size, value, sizeRet);
  }

  info(): PlatformInfo {
    if (!this.cached) {
      const s = (n: number) => infoString('clGetPlatformInfo', this.fn, n);
      this.cached = {
        name: s(C.CL_PLATFORM_NAME),
        vendor: s(C.CL_PLATFORM_VENDOR),
        version: s(C.CL_PLATFORM_VERSION),
        profile: s(C.CL_PLATFORM_PROFILE),
        extensions: s(C.CL_PLATFORM_EXTENSIONS).split(/\s+/).filter(Boolean),
      };
    }
    return this.cached;
  }

  get name(): string {
    return this.info().name;
  }

  /** Devices of this platform of the given types (all by default); [] when it has none. */
  devices(type: DeviceTypeName | 'all' = 'all'): Device[] {
    const mask = type === 'all' ? C.CL_DEVICE_TYPE_ALL : TYPE_BITS.find(([n]) => n === type)![1];
    const api = cl();
    const num = new Uint32Array(1);
    const st = api.clGetDeviceIDs(this.id, mask, 0, null, num);
    if (st === -1 /* CL_DEVICE_NOT_FOUND */ || (st === 0 && num[0] === 0)) return [];
    check('clGetDeviceIDs', st);
    const w = hostWidths();
    const ids = new Uint8Array(num[0] * w.pointer);
    check('clGetDeviceIDs', api.clGetDeviceIDs(this.id, mask, num[0], ids, null));
    return decodeWords(ids, w.pointer).map((id, i) => new Device(id, this, i));
  }
}

export interface DeviceInfo {
  name: string;
  vendor: string;
  vendorId: number;
  version: string;
  driverVersion: string;
  openclCVersion: string;
  profile: string;
  types: DeviceTypeName[];
  computeUnits: number;
  maxClockMHz: number;
  globalMemBytes: number;
  globalMemCacheBytes: number;
  localMemBytes: number;
  /** CL_DEVICE_LOCAL_MEM_TYPE: 'local' (dedicated) or 'global' (emulated in global memory). */
  localMemType: 'local' | 'global' | 'none';
  maxAllocBytes: number;
  maxConstantBufferBytes: number;
  maxParameterBytes: number;
  maxWorkGroupSize: number;
  maxWorkItemSizes: number[];
  /** CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bits as OpenCL reports it. */
  memBaseAddrAlignBits: number;
  addressBits: number;
  littleEndian: boolean;
  errorCorrection: boolean;
  available: boolean;
  compilerAvailable: boolean;
  linkerAvailable: boolean;
  profilingTimerResolutionNs: number;
  /** Supports CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE. */
  outOfOrderQueue: boolean;
  /**
   * CL_DEVICE_HOST_UNIFIED_MEMORY: device and host share one memory (CPU devices; SoC FPGAs
   * such as a DE10-Nano's Cyclone V share the HPS DRAM), so mapping a buffer costs nothing
   * and copies are waste.
   */
  hostUnifiedMemory: boolean;
  builtInKernels: string[];
  extensions: string[];
}

export class Device {
  private cached?: DeviceInfo;
  constructor(
    readonly id: Ptr,
    readonly platform: Platform,
    /** Position within its platform's device list. */
    readonly index: number,
  ) {}

  private get fn(): InfoFn {
    return (name, size, value, sizeRet) => cl().clGetDeviceInfo(this.id, name, size, value, sizeRet);
  }

  info(): DeviceInfo {
    if (this.cached) return this.cached;
    const call = 'clGetDeviceInfo';
    const f = this.fn;
    const s = (n: number) => infoString(call, f, n);
    const u = (n: number) => infoU32(call, f, n);
    const big = (n: number) => Number(infoU64(call, f, n));
    const b = (n: number) => infoBool(call, f, n);
    const typeMask = infoU64(call, f, C.CL_DEVICE_TYPE);
    const localType = u(C.CL_DEVICE_LOCAL_MEM_TYPE);
    // Optional in some runtimes (1.1-era Intel FPGA BSPs): a missing query is not fatal.
    const optional = <T>(get: () => T, fallback: T): T => {
      try {
        return get();
      } catch (e) {
        if (e instanceof OpenCLError) return fallback;
        throw e;
      }
    };
    this.cached = {
      name: s(C.CL_DEVICE_NAME).trim(),
      vendor: s(C.CL_DEVICE_VENDOR).trim(),
      vendorId: u(C.CL_DEVICE_VENDOR_ID),
      version: s(C.CL_DEVICE_VERSION),
      driverVersion: s(C.CL_DRIVER_VERSION),
      openclCVersion: optional(() => s(C.CL_DEVICE_OPENCL_C_VERSION), ''),
      profile: s(C.CL_DEVICE_PROFILE),
      types: TYPE_BITS.filter(([, bit]) => (typeMask & bit) !== 0n).map(([n]) => n),
      computeUnits: u(C.CL_DEVICE_MAX_COMPUTE_UNITS),
      maxClockMHz: u(C.CL_DEVICE_MAX_CLOCK_FREQUENCY),
      globalMemBytes: big(C.CL_DEVICE_GLOBAL_MEM_SIZE),
      globalMemCacheBytes: big(C.CL_DEVICE_GLOBAL_MEM_CACHE_SIZE),
      localMemBytes: big(C.CL_DEVICE_LOCAL_MEM_SIZE),
      localMemType: localType === 1 ? 'local' : localType === 2 ? 'global' : 'none',
      maxAllocBytes: big(C.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
      maxConstantBufferBytes: big(C.CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE),
      maxParameterBytes: infoSize(call, f, C.CL_DEVICE_MAX_PARAMETER_SIZE),
      maxWorkGroupSize: infoSize(call, f, C.CL_DEVICE_MAX_WORK_GROUP_SIZE),
      maxWorkItemSizes: infoSizeArray(call, f, C.CL_DEVICE_MAX_WORK_ITEM_SIZES),
      memBaseAddrAlignBits: u(C.CL_DEVICE_MEM_BASE_ADDR_ALIGN),
      addressBits: u(C.CL_DEVICE_ADDRESS_BITS),
      littleEndian: b(C.CL_DEVICE_ENDIAN_LITTLE),
      errorCorrection: b(C.CL_DEVICE_ERROR_CORRECTION_SUPPORT),
      available: b(C.CL_DEVICE_AVAILABLE),
      compilerAvailable: b(C.CL_DEVICE_COMPILER_AVAILABLE),
      linkerAvailable: optional(() => b(C.CL_DEVICE_LINKER_AVAILABLE), false),
      profilingTimerResolutionNs: infoSize(call, f, C.CL_DEVICE_PROFILING_TIMER_RESOLUTION),
      outOfOrderQueue: (infoU64(call, f, C.CL_DEVICE_QUEUE_PROPERTIES) & C.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) !== 0n,
      // deprecated by OpenCL 2.0 (still answered by PoCL and the FPGA runtimes); absent means no
      hostUnifiedMemory: optional(() => b(C.CL_DEVICE_HOST_UNIFIED_MEMORY), false),
      builtInKernels: optional(() => s(C.CL_DEVICE_BUILT_IN_KERNELS), '').split(';').map((k) => k.trim()).filter(Boolean),
      extensions: s(C.CL_DEVICE_EXTENSIONS).split(/\s+/).filter(Boolean),
    };
    return this.cached;
  }

  get name(): string {
    return this.info().name;
  }

  /** "<platform> / <device>", for messages. */
  toString(): string {
    return `${this.platform.name} / ${this.name}`;
  }
}

/**
 * Every platform the ICD loader knows. Throws OpenCLUnavailableError when the loader is
 * missing or lists no platform (so callers never see an empty list without a reason).
 */
export function platforms(): Platform[] {
  const api = cl();
  const num = new Uint32Array(1);
  const st = api.clGetPlatformIDs(0, null, num);
  // The ocl-icd loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no vendor ICD is installed.
  if (st === -1001 || (st === 0 && num[0] === 0)) {
    throw new OpenCLUnavailableError(`no OpenCL platform found; ${INSTALL_HINT}`);
  }
  check('clGetPlatformIDs', st);
  const w = hostWidths();
  const ids = new Uint8Array(num[0] * w.pointer);
  check('clGetPlatformIDs', api.clGetPlatformIDs(num[0], ids, null));
  return decodeWords(ids, w.pointer).map((id) => new Platform(id));
}

export interface DeviceFilter {
  /** Case-insensitive substring of the platform name or vendor. */
  platform?: string;
  /** Case-insensitive substring of the device name. */
  name?: string;
  /** Case-insensitive substring of the device vendor (or its platform's vendor). */
  vendor?: string;
  /** Device type; default 'all'. */
  type?: DeviceTypeName | 'all';
  /** Keep only available devices (default true). */
  availableOnly?: boolean;
}

const has = (hay: string, needle: string | undefined) => needle === undefined || hay.toLowerCase().includes(needle.toLowerCase());

/** Every device of every platform (platform order, then device order). */
export function allDevices(type: DeviceTypeName | 'all' = 'all'): Device[] {
  return platforms().flatMap((p) => p.devices(type));
}

/** Devices matching the filter, in platform/device order; [] when none match. */
export function findDevices(filter: DeviceFilter = {}): Device[] {
  if (filter.type !== undefined && filter.type !== 'all' && !TYPE_BITS.some(([n]) => n === filter.type)) {
    throw new OpenCLUsageError(`unknown device type '${filter.type}' (default, cpu, gpu, accelerator, custom, all)`);
  }
  return platforms()
    .filter((p) => has(p.info().name, filter.platform) || has(p.info().vendor, filter.platform))
    .flatMap((p) => p.devices(filter.type ?? 'all'))
    .filter((d) => {
      const i = d.info();
      return has(i.name, filter.name) && (has(i.vendor, filter.vendor) || has(d.platform.info().vendor, filter.vendor)) && (filter.availableOnly === false || i.available);
    });
}

/** Like findDevices but never empty: throws OpenCLUnavailableError naming the filter and what exists. */
export function selectDevices(filter: DeviceFilter = {}): Device[] {
  const found = findDevices(filter);
  if (found.length > 0) return found;
  const all = allDevices();
  const what = Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  const have = all.length ? all.map((d) => `'${d}'`).join(', ') : 'none';
  throw new OpenCLUnavailableError(
    `no OpenCL device${what ? ` matches ${what}` : ''} (devices present: ${have})${all.length ? '' : `; ${INSTALL_HINT}`}`,
  );
}

/** The first matching device (see selectDevices). */
export function selectDevice(filter: DeviceFilter = {}): Device {
  return selectDevices(filter)[0];
}
