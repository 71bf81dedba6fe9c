/** bitweave's public API: import -> compile -> Session on a backend. */
export { Session } from './runtime/session';
export type { SessionOptions, RunResult, SessionStats, SegmentSpan } from './runtime/session';
export type { Backend, LayerStat, TensorData } from './runtime/backend';
export { availableBackends, createBackend } from './backends';
export type { BackendName, BackendOptions } from './backends';
export { loadModel, convertBmxnet } from './runtime/load';
export { compile } from './compile/compile';
export { describeModel } from './compile/describe';
export type { CompiledModel, Preprocess } from './compile/model';
export type { IRGraph } from './ir/graph';
export { importBmxnet } from './import/bmxnet';
export { readBnn, writeBnn } from './format/bnn';
export { exportOnnx } from './export/onnx';
export { loadDataset, loadInputFile } from './data/datasets';
export { readImage, imageToInput } from './data/image';
export { resolvePreprocess, readLabels } from './data/preprocess';
export type { PreprocessSpec } from './data/preprocess';
export { BitweaveError, FormatError, UnsupportedError, ShapeError } from './core/errors';
