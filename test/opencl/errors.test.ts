/**
 * OpenCL status codes as errors: every code named as cl.h names it, unknown codes shown
 * numerically, and a missing ICD loader or platform as one typed, readable error.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../../host/core/errors';
import { CL_ERROR_NAMES, clErrorName, OpenCLError } from '../../host/opencl';
import { nodeScript } from '../helpers/run';

const child = (script: string, env: NodeJS.ProcessEnv, flags: string[] = []) => nodeScript(script, { env, flags, timeout: 120000 });

const OPENCL_INDEX = path.resolve(__dirname, '../../host/opencl/index.js');

describe('OpenCL error mapping', () => {
  it('names every OpenCL 1.2 status like cl.h and shows unknown codes numerically', function () {
    const header = '/usr/include/CL/cl.h';
    if (fs.existsSync(header)) {
      const defs = [...fs.readFileSync(header, 'utf8').matchAll(/#define (CL_[A-Z_]+)\s+(-\d+)\s*$/gm)].filter(([, name]) => !name.startsWith('CL_BUILD_'));
      assert.ok(defs.length >= 60, 'cl.h lists the error codes');
      for (const [, name, code] of defs) assert.equal(CL_ERROR_NAMES[Number(code)], name, `code ${code}`);
    }
    for (let c = -1; c >= -19; c--) assert.match(clErrorName(c), /^CL_/);
    for (let c = -30; c >= -68; c--) assert.match(clErrorName(c), /^CL_/);
    assert.equal(clErrorName(-5), 'CL_OUT_OF_RESOURCES');
    assert.equal(clErrorName(-4), 'CL_MEM_OBJECT_ALLOCATION_FAILURE');
    assert.equal(clErrorName(-9999), 'CL_ERROR(-9999)');
    const e = new OpenCLError('clEnqueueNDRangeKernel', -5);
    assert.ok(e instanceof BitweaveError, 'a user-facing error');
    assert.equal(e.clName, 'CL_OUT_OF_RESOURCES');
    assert.equal(e.clCode, -5);
    assert.match(e.message, /clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES \(-5\)/);
    assert.match(new OpenCLError('clFoo', -4242).message, /CL_ERROR\(-4242\)/);
  });

  it('a missing ICD loader is one clear error saying what to install', () => {
    const r = child(
      `const o = require(${JSON.stringify(OPENCL_INDEX)});
       try { o.platforms(); } catch (e) { console.log(JSON.stringify({ name: e.name, user: e instanceof require(${JSON.stringify(path.resolve(__dirname, '../../host/core/errors.js'))}).BitweaveError, message: e.message })); }`,
      { BITWEAVE_OPENCL_LIB: '/nonexistent/libOpenCL.so.1' },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.name, 'OpenCLUnavailableError');
    assert.equal(out.user, true);
    assert.match(out.message, /OpenCL is not installed/);
    assert.match(out.message, /make setup/);
    assert.match(out.message, /pocl-opencl-icd/);
  });

  it('a loader without any platform is one clear error saying what to install', function () {
    const r = child(
      `const o = require(${JSON.stringify(OPENCL_INDEX)});
       try { o.platforms(); console.log('{}'); } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`,
      { OCL_ICD_VENDORS: '/nonexistent-icd-vendors-dir' },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    if (!out.name) return this.skip(); // a loader that ignores OCL_ICD_VENDORS
    assert.equal(out.name, 'OpenCLUnavailableError');
    assert.match(out.message, /no OpenCL platform found/);
    assert.match(out.message, /make setup/);
  });
});
