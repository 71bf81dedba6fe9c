// Preloaded by scripts/arm32/run.sh: the shared node_modules holds koffi with only its amd64
// prebuild, so require('koffi') is pointed at the armhf environment's copy, which sits next
// to @koromix/koffi-linux-arm. Every other module resolves as usual.
'use strict';
const Module = require('module');
const armhfKoffi = process.env.BITWEAVE_ARM32_KOFFI;
if (!armhfKoffi) throw new Error('koffi-armhf.cjs: BITWEAVE_ARM32_KOFFI is not set (use scripts/arm32/run.sh)');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'koffi') return resolve.call(this, armhfKoffi, ...rest);
  return resolve.call(this, request, ...rest);
};
