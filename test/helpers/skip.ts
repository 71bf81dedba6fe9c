/** Skipping what this machine cannot run, always with a visible reason. */

/**
 * Runs `probe` (load a library, list OpenCL platforms, …); when it throws an error of
 * `kind` (default any), the calling test or suite is skipped with the error's message.
 * Returns false when skipped.
 */
export function requireOrSkip(ctx: Mocha.Context, probe: () => unknown, kind?: new (...args: never[]) => Error): boolean {
  try {
    probe();
    return true;
  } catch (e) {
    if (kind && !(e instanceof kind)) throw e;
    console.log(`      SKIPPED: ${(e as Error).message}`);
    ctx.skip();
    return false;
  }
}
