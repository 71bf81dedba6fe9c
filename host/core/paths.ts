/**
 * Where the package's own files live. Modules run from host/ (sources) or dist/host/
 * (compiled), at any depth, so the root is found once, by walking up to bitweave's
 * package.json, instead of by counting '..' per module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from './errors';

let root: string | null = null;

/** The folder holding bitweave's package.json (and boards/, hls/, sim/, build/, …). */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'bitweave') return (root = dir);
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (path.dirname(dir) === dir) throw new BitweaveError(`cannot find bitweave's package.json above ${__dirname}`);
  }
}

/** A path inside the package: packagePath('build', 'libbitweave.so'). */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}

/** Third-party models beside the repository: ../shared/models, or BITWEAVE_SHARED_MODELS. */
export function sharedModelsDir(): string {
  return process.env.BITWEAVE_SHARED_MODELS || path.resolve(packageRoot(), '..', 'shared', 'models');
}
