/** OpenCL 1.2 enumerants used by the wrappers (values from the Khronos cl.h). */

export const CL_SUCCESS = 0;

// cl_platform_info
export const CL_PLATFORM_PROFILE = 0x0900;
export const CL_PLATFORM_VERSION = 0x0901;
export const CL_PLATFORM_NAME = 0x0902;
export const CL_PLATFORM_VENDOR = 0x0903;
export const CL_PLATFORM_EXTENSIONS = 0x0904;

// cl_device_type (bitfield)
export const CL_DEVICE_TYPE_DEFAULT = 1n << 0n;
export const CL_DEVICE_TYPE_CPU = 1n << 1n;
export const CL_DEVICE_TYPE_GPU = 1n << 2n;
export const CL_DEVICE_TYPE_ACCELERATOR = 1n << 3n;
export const CL_DEVICE_TYPE_CUSTOM = 1n << 4n;
export const CL_DEVICE_TYPE_ALL = 0xffffffffn;

// cl_device_info
export const CL_DEVICE_TYPE = 0x1000;
export const CL_DEVICE_VENDOR_ID = 0x1001;
export const CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
export const CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS = 0x1003;
export const CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
export const CL_DEVICE_MAX_WORK_ITEM_SIZES = 0x1005;
export const CL_DEVICE_MAX_CLOCK_FREQUENCY = 0x100c;
export const CL_DEVICE_ADDRESS_BITS = 0x100d;
export const CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
export const CL_DEVICE_MAX_PARAMETER_SIZE = 0x1017;
export const CL_DEVICE_MEM_BASE_ADDR_ALIGN = 0x1019;
export const CL_DEVICE_GLOBAL_MEM_CACHE_SIZE = 0x101e;
export const CL_DEVICE_GLOBAL_MEM_SIZE = 0x101f;
export const CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE = 0x1020;
export const CL_DEVICE_LOCAL_MEM_TYPE = 0x1022;
export const CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
export const CL_DEVICE_ERROR_CORRECTION_SUPPORT = 0x1024;
export const CL_DEVICE_PROFILING_TIMER_RESOLUTION = 0x1025;
export const CL_DEVICE_ENDIAN_LITTLE = 0x1026;
export const CL_DEVICE_AVAILABLE = 0x1027;
export const CL_DEVICE_COMPILER_AVAILABLE = 0x1028;
export const CL_DEVICE_QUEUE_PROPERTIES = 0x102a;
export const CL_DEVICE_NAME = 0x102b;
export const CL_DEVICE_VENDOR = 0x102c;
export const CL_DRIVER_VERSION = 0x102d;
export const CL_DEVICE_PROFILE = 0x102e;
export const CL_DEVICE_VERSION = 0x102f;
export const CL_DEVICE_EXTENSIONS = 0x1030;
export const CL_DEVICE_PLATFORM = 0x1031;
export const CL_DEVICE_HOST_UNIFIED_MEMORY = 0x1035;
export const CL_DEVICE_OPENCL_C_VERSION = 0x103d;
export const CL_DEVICE_LINKER_AVAILABLE = 0x103e;
export const CL_DEVICE_BUILT_IN_KERNELS = 0x103f;

// cl_command_queue_properties (bitfield) and the 2.0 properties-list key
export const CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE = 1n << 0n;
export const CL_QUEUE_PROFILING_ENABLE = 1n << 1n;
export const CL_QUEUE_PROPERTIES = 0x1093;

// cl_mem_flags (bitfield)
export const CL_MEM_READ_WRITE = 1n << 0n;
export const CL_MEM_WRITE_ONLY = 1n << 1n;
export const CL_MEM_READ_ONLY = 1n << 2n;
export const CL_MEM_USE_HOST_PTR = 1n << 3n;
export const CL_MEM_ALLOC_HOST_PTR = 1n << 4n;
export const CL_MEM_COPY_HOST_PTR = 1n << 5n;
export const CL_MEM_HOST_WRITE_ONLY = 1n << 7n;
export const CL_MEM_HOST_READ_ONLY = 1n << 8n;
export const CL_MEM_HOST_NO_ACCESS = 1n << 9n;

// cl_mem_info
export const CL_MEM_FLAGS = 0x1101;
export const CL_MEM_SIZE = 0x1102;
export const CL_MEM_HOST_PTR = 0x1103;
export const CL_MEM_MAP_COUNT = 0x1104;

// cl_map_flags (bitfield)
export const CL_MAP_READ = 1n << 0n;
export const CL_MAP_WRITE = 1n << 1n;
export const CL_MAP_WRITE_INVALIDATE_REGION = 1n << 2n;

// cl_program_info / cl_program_build_info
export const CL_PROGRAM_NUM_DEVICES = 0x1162;
export const CL_PROGRAM_DEVICES = 0x1163;
export const CL_PROGRAM_BINARY_SIZES = 0x1165;
export const CL_PROGRAM_BINARIES = 0x1166;
export const CL_PROGRAM_NUM_KERNELS = 0x1167;
export const CL_PROGRAM_KERNEL_NAMES = 0x1168;
export const CL_PROGRAM_BUILD_STATUS = 0x1181;
export const CL_PROGRAM_BUILD_OPTIONS = 0x1182;
export const CL_PROGRAM_BUILD_LOG = 0x1183;

// cl_kernel_info / arg info / work-group info
export const CL_KERNEL_FUNCTION_NAME = 0x1190;
export const CL_KERNEL_NUM_ARGS = 0x1191;
export const CL_KERNEL_ATTRIBUTES = 0x1195;
export const CL_KERNEL_ARG_ADDRESS_QUALIFIER = 0x1196;
export const CL_KERNEL_ARG_ACCESS_QUALIFIER = 0x1197;
export const CL_KERNEL_ARG_TYPE_NAME = 0x1198;
export const CL_KERNEL_ARG_NAME = 0x119a;
export const CL_KERNEL_ARG_ADDRESS_GLOBAL = 0x119b;
export const CL_KERNEL_ARG_ADDRESS_LOCAL = 0x119c;
export const CL_KERNEL_ARG_ADDRESS_CONSTANT = 0x119d;
export const CL_KERNEL_ARG_ADDRESS_PRIVATE = 0x119e;
export const CL_KERNEL_WORK_GROUP_SIZE = 0x11b0;
export const CL_KERNEL_COMPILE_WORK_GROUP_SIZE = 0x11b1;
export const CL_KERNEL_LOCAL_MEM_SIZE = 0x11b2;
export const CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE = 0x11b3;
export const CL_KERNEL_PRIVATE_MEM_SIZE = 0x11b4;

// cl_event_info, execution status, profiling
export const CL_EVENT_COMMAND_TYPE = 0x11d1;
export const CL_EVENT_COMMAND_EXECUTION_STATUS = 0x11d3;
export const CL_COMPLETE = 0;
export const CL_RUNNING = 1;
export const CL_SUBMITTED = 2;
export const CL_QUEUED = 3;
export const CL_PROFILING_COMMAND_QUEUED = 0x1280;
export const CL_PROFILING_COMMAND_SUBMIT = 0x1281;
export const CL_PROFILING_COMMAND_START = 0x1282;
export const CL_PROFILING_COMMAND_END = 0x1283;
