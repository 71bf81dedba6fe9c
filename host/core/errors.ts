/**
 * Errors a user can cause (bad files, wrong shapes, unsupported ops, missing devices).
 * The CLI prints `error: <message>` on one line and exits 1 for these; anything else
 * is a bug and is reported with its stack.
 */
export class BitweaveError extends Error {
  constructor(message: string, readonly code: string = 'E_USER') {
    super(message);
    this.name = 'BitweaveError';
  }
}

/** A file that is truncated, corrupt, hostile or simply not what it claims to be. */
export class FormatError extends BitweaveError {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`, 'E_FORMAT');
    this.name = 'FormatError';
  }
}

/** A model feature bitweave does not implement (op, attribute or value). */
export class UnsupportedError extends BitweaveError {
  constructor(message: string) {
    super(message, 'E_UNSUPPORTED');
    this.name = 'UnsupportedError';
  }
}

/** Shape or argument mismatch detected before any work is done. */
export class ShapeError extends BitweaveError {
  constructor(message: string) {
    super(message, 'E_SHAPE');
    this.name = 'ShapeError';
  }
}

export function isUserError(e: unknown): e is BitweaveError {
  return e instanceof BitweaveError;
}
