/**
 * The ES module entry of `import … from 'bitweave'`: the CommonJS build re-exported, so
 * both entries share one module instance (one loaded native library, one model cache).
 */
import bitweave from './index.js';

export * from './index.js';
export default bitweave;
