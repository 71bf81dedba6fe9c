/**
 * The backend contract (contract.ts) run against every backend that is not the oracle
 * itself, each with the variants that move its own edges (threads, chunking, launch
 * modes, array shapes).
 */
import fc from 'fast-check';
import { nativeEngine } from '../../host/backends/native/ffi';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { VerilatorBackend } from '../../host/backends/verilator';
import { platforms } from '../../host/opencl';
import { bconvCases } from '../helpers/backend-compare';
import { backendContract } from './contract';
import { checkAxiCycles, checkCycleModel } from './cycle-check';
import { axiInfo } from '../../host/backends/axi-sim/ffi';
import { AxiSimBackend } from '../../host/backends/axi-sim';

// the oracle itself: what it is compared with elsewhere is left out, the rest holds for it too
backendContract({
  name: 'reference',
  available: () => undefined,
  variants: [{}],
  layers: { cases: bconvCases({ inBits: [1] }), seed: 1, runs: 0 },
  models: 0,
  modelImages: 0,
  shippedImages: 0,
  mnistDigits: 0,
});

backendContract({
  name: 'native',
  available: () => nativeEngine(),
  // the test layers are small: make every parallel loop really use its threads
  setup: () => nativeEngine().setParallelNs(0),
  teardown: () => nativeEngine().setParallelNs(-1),
  variants: [{ threads: 1 }, { threads: 2 }],
  layers: { cases: bconvCases({ inBits: [1, 1, 2, 4] }), seed: 11, runs: 90 },
  models: 6,
  modelImages: 37,
  shippedImages: 200,
  mnistDigits: 300,
});

backendContract({
  name: 'opencl',
  available: () => platforms(),
  variants: [{ threads: 1 }, { threads: 1, chunk: 1 }, { threads: 1, chunk: 2, oneLaunch: true }],
  layers: {
    cases: bconvCases({ channels: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(15, 16, 17, 63, 64, 65, 127, 128, 130), fc.integer({ min: 60, max: 140 })), inBits: [1, 1, 2, 3], asymmetricPool: true }),
    seed: 21,
    runs: 70,
  },
  kbitLayers: { seed: 1621, runs: 200 },
  models: 4,
  modelImages: 29,
  shippedImages: 200,
  mnistDigits: 300,
});

backendContract({
  name: 'hls-csim',
  available: () => hlsLib(),
  // the header's array and the odd shapes compiled into the library move every tile edge
  variants: [{ threads: 1 }, { threads: 2, array: { rows: 3, cols: 5 } }, { threads: 1, array: { rows: 1, cols: 1 } }],
  // large layers on the 1x1 array take long: give them to the header's
  pick: (v, i, p) => v[i % 3 === 2 && p.H * p.W * p.outC > 2000 ? 0 : i % 3],
  layers: { cases: bconvCases({ inBits: [1, 1, 2] }), seed: 21, runs: 60 },
  kbitLayers: { seed: 1622, runs: 200 },
  models: 4,
  modelImages: 13,
  shippedImages: 200,
  mnistDigits: 200,
});


backendContract({
  name: 'verilator',
  available: () => rtlInfo(),
  variants: [{ threads: 1 }],
  layers: { cases: bconvCases({ channels: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(63, 64, 65, 127, 128, 130)), inBits: [1, 1, 2, 4] }), seed: 61, runs: 70 },
  // every layer the RTL runs also checks the cycle model, exactly
  // the row units hold 2-bit outputs (RTL_BUILD.maxOutBits): signed 2-bit outputs included
  kbitLayers: { seed: 1623, runs: 150, outBits: [0, 0, 1, 2] },
  afterLayer: (b, what) => checkCycleModel(b as VerilatorBackend, what, 0),
  models: 3,
  modelImages: 11,
  shippedImages: 64,
  // the RTL's MNIST run (with its utilisation checks) is in verilator-backend.test.ts
  mnistDigits: 0,
});

backendContract({
  name: 'axi-sim',
  available: () => axiInfo(),
  // the host's choice of array runs per call, and runs of two images (copies overlapping them)
  variants: [{ threads: 1 }, { threads: 1, axiChunk: 2 }],
  // the kernel's array is built like the dev-board SoC's: 1-bit threshold outputs (AXI_BUILD)
  layers: { cases: bconvCases({ channels: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(63, 64, 65, 127, 128, 130)), inBits: [1, 1, 2, 4], outBits: [0, 1] }), seed: 71, runs: 70 },
  // the array's share of every call is the cycle model's, exactly
  kbitLayers: { seed: 1624, runs: 80, outBits: [0, 1] },
  afterLayer: (b, what) => checkAxiCycles(b as AxiSimBackend, what),
  models: 2,
  modelBits: [1],
  modelImages: 9,
  shippedImages: 64,
  mnistDigits: 100,
});
