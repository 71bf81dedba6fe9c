/**
 * OpenCL failures as user-facing errors. Every non-zero cl_int status becomes an
 * OpenCLError carrying the API call, the numeric code and its CL_* name; a failed build
 * becomes a BuildProgramError carrying the compiler log. A missing ICD loader, platform or
 * device is an OpenCLUnavailableError that says what to install.
 */
import { BitweaveError } from '../core/errors';

/** The OpenCL 1.2 status codes, plus the 2.x additions and the ICD loader's KHR code. */
export const CL_ERROR_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'CL_SUCCESS',
  [-1]: 'CL_DEVICE_NOT_FOUND',
  [-2]: 'CL_DEVICE_NOT_AVAILABLE',
  [-3]: 'CL_COMPILER_NOT_AVAILABLE',
  [-4]: 'CL_MEM_OBJECT_ALLOCATION_FAILURE',
  [-5]: 'CL_OUT_OF_RESOURCES',
  [-6]: 'CL_OUT_OF_HOST_MEMORY',
  [-7]: 'CL_PROFILING_INFO_NOT_AVAILABLE',
  [-8]: 'CL_MEM_COPY_OVERLAP',
  [-9]: 'CL_IMAGE_FORMAT_MISMATCH',
  [-10]: 'CL_IMAGE_FORMAT_NOT_SUPPORTED',
  [-11]: 'CL_BUILD_PROGRAM_FAILURE',
  [-12]: 'CL_MAP_FAILURE',
  [-13]: 'CL_MISALIGNED_SUB_BUFFER_OFFSET',
  [-14]: 'CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST',
  [-15]: 'CL_COMPILE_PROGRAM_FAILURE',
  [-16]: 'CL_LINKER_NOT_AVAILABLE',
  [-17]: 'CL_LINK_PROGRAM_FAILURE',
  [-18]: 'CL_DEVICE_PARTITION_FAILED',
  [-19]: 'CL_KERNEL_ARG_INFO_NOT_AVAILABLE',
  [-30]: 'CL_INVALID_VALUE',
  [-31]: 'CL_INVALID_DEVICE_TYPE',
  [-32]: 'CL_INVALID_PLATFORM',
  [-33]: 'CL_INVALID_DEVICE',
  [-34]: 'CL_INVALID_CONTEXT',
  [-35]: 'CL_INVALID_QUEUE_PROPERTIES',
  [-36]: 'CL_INVALID_COMMAND_QUEUE',
  [-37]: 'CL_INVALID_HOST_PTR',
  [-38]: 'CL_INVALID_MEM_OBJECT',
  [-39]: 'CL_INVALID_IMAGE_FORMAT_DESCRIPTOR',
  [-40]: 'CL_INVALID_IMAGE_SIZE',
  [-41]: 'CL_INVALID_SAMPLER',
  [-42]: 'CL_INVALID_BINARY',
  [-43]: 'CL_INVALID_BUILD_OPTIONS',
  [-44]: 'CL_INVALID_PROGRAM',
  [-45]: 'CL_INVALID_PROGRAM_EXECUTABLE',
  [-46]: 'CL_INVALID_KERNEL_NAME',
  [-47]: 'CL_INVALID_KERNEL_DEFINITION',
  [-48]: 'CL_INVALID_KERNEL',
  [-49]: 'CL_INVALID_ARG_INDEX',
  [-50]: 'CL_INVALID_ARG_VALUE',
  [-51]: 'CL_INVALID_ARG_SIZE',
  [-52]: 'CL_INVALID_KERNEL_ARGS',
  [-53]: 'CL_INVALID_WORK_DIMENSION',
  [-54]: 'CL_INVALID_WORK_GROUP_SIZE',
  [-55]: 'CL_INVALID_WORK_ITEM_SIZE',
  [-56]: 'CL_INVALID_GLOBAL_OFFSET',
  [-57]: 'CL_INVALID_EVENT_WAIT_LIST',
  [-58]: 'CL_INVALID_EVENT',
  [-59]: 'CL_INVALID_OPERATION',
  [-60]: 'CL_INVALID_GL_OBJECT',
  [-61]: 'CL_INVALID_BUFFER_SIZE',
  [-62]: 'CL_INVALID_MIP_LEVEL',
  [-63]: 'CL_INVALID_GLOBAL_WORK_SIZE',
  [-64]: 'CL_INVALID_PROPERTY',
  [-65]: 'CL_INVALID_IMAGE_DESCRIPTOR',
  [-66]: 'CL_INVALID_COMPILER_OPTIONS',
  [-67]: 'CL_INVALID_LINKER_OPTIONS',
  [-68]: 'CL_INVALID_DEVICE_PARTITION_COUNT',
  [-69]: 'CL_INVALID_PIPE_SIZE',
  [-70]: 'CL_INVALID_DEVICE_QUEUE',
  [-71]: 'CL_INVALID_SPEC_ID',
  [-72]: 'CL_MAX_SIZE_RESTRICTION_EXCEEDED',
  [-1001]: 'CL_PLATFORM_NOT_FOUND_KHR',
});

/** `CL_OUT_OF_RESOURCES` for -5; unknown (vendor) codes read `CL_ERROR(-9999)`. */
export function clErrorName(code: number): string {
  return CL_ERROR_NAMES[code] ?? `CL_ERROR(${code})`;
}

/** Why a status is likely, for the codes users actually meet on FPGA boards and PoCL. */
const HINTS: Readonly<Record<number, string>> = {
  [-4]: 'the device could not allocate the buffer (too large for its memory or bank?)',
  [-5]: 'the device ran out of resources (on FPGA boards: often a kernel that does not fit or a bad bitstream)',
  [-6]: 'the OpenCL runtime ran out of host memory',
  [-42]: 'the binary was not built for this device or platform (xclbin/aocx for another board or shell?)',
  [-46]: 'no kernel of that name in the program',
  [-52]: 'not every kernel argument was set before the launch',
};

/** A failed OpenCL call. `clName` is the CL_* name of `clCode` (e.g. CL_OUT_OF_RESOURCES). */
export class OpenCLError extends BitweaveError {
  readonly clName: string;
  constructor(
    readonly call: string,
    readonly clCode: number,
    detail?: string,
  ) {
    const name = clErrorName(clCode);
    const hint = HINTS[clCode];
    super(`OpenCL ${call} failed: ${name} (${clCode})${detail ? `: ${detail}` : hint ? ` - ${hint}` : ''}`, 'E_OPENCL');
    this.name = 'OpenCLError';
    this.clName = name;
  }
}

/** CL_BUILD_PROGRAM_FAILURE (or COMPILE/LINK failure) with the compiler's log of each device. */
export class BuildProgramError extends OpenCLError {
  constructor(
    call: string,
    clCode: number,
    /** The build log (all devices joined, each headed by its name when there are several). */
    readonly buildLog: string,
    readonly options: string,
  ) {
    const log = buildLog.trim();
    super(call, clCode, `build${options ? ` with options '${options}'` : ''} failed${log ? `; compiler log:\n${log}` : ' (the compiler printed no log)'}`);
    this.name = 'BuildProgramError';
  }
}

/** No ICD loader, no platform or no matching device: the message says what to install or set. */
export class OpenCLUnavailableError extends BitweaveError {
  constructor(message: string) {
    super(message, 'E_NO_OPENCL');
    this.name = 'OpenCLUnavailableError';
  }
}

/** A released handle was used, or a TypedArray went away under a buffer: refused before any C call. */
export class OpenCLUsageError extends BitweaveError {
  constructor(message: string) {
    super(message, 'E_OPENCL_USAGE');
    this.name = 'OpenCLUsageError';
  }
}

/** Throws OpenCLError unless `status` is CL_SUCCESS. */
export function check(call: string, status: number): void {
  if (status !== 0) throw new OpenCLError(call, status);
}
