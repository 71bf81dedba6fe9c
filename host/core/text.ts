/**
 * Text that came from outside (file names, file content, library messages) made safe to
 * print: control characters escaped, length capped, JSON previews bounded. Used by the
 * CLI's error printer and by every message that quotes what a hostile file contains.
 */

/** Longest error line the CLI prints (characters, before the `bitweave: error: ` prefix). */
export const MAX_ERROR_CHARS = 500;

/**
 * Control characters (C0, DEL, C1) and the Unicode line / paragraph separators as
 * `\xNN` / `\uNNNN`, so a string can never move the cursor, clear a terminal or break a
 * line. Tab, CR and LF are escaped too (`\t`, `\r`, `\n`).
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: {
        const n = c.charCodeAt(0);
        return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
      }
    }
  });
}

/** At most `max` characters of s, ending in '…' when cut (never splits a surrogate pair). */
export function capText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // do not leave half a surrogate pair
  return `${s.slice(0, end)}…`;
}

/** File-supplied text as one bounded printable run (escaped first, then capped). */
export function printable(s: string, max = 200): string {
  // cap before escaping too, so a 100 MB string is not escaped in full
  return capText(escapeControls(s.length > 4 * max ? s.slice(0, 4 * max) : s), max);
}

/**
 * A message on one line for the CLI: line breaks (with the blanks around them) become
 * one space, other control characters are escaped, and the result is capped at
 * MAX_ERROR_CHARS.
 */
export function oneLineMessage(s: string, max = MAX_ERROR_CHARS): string {
  const head = s.length > 8 * max ? s.slice(0, 8 * max) : s;
  return capText(escapeControls(head.trim().replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ')), max);
}

/**
 * A short JSON rendering of a parsed value for messages: at most `max` characters and
 * four levels (deeper ones show as `[…]` / `{…}`), without recursing into the rest of
 * the value, so a value nested thousands of levels deep or megabytes wide costs nothing.
 */
export function jsonPreview(v: unknown, max = 80): string {
  let out = '';
  const put = (s: string): boolean => {
    out += s;
    return out.length <= max;
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (typeof x === 'string') return put(JSON.stringify(x.length > max ? x.slice(0, max) : x));
    if (x === null || typeof x !== 'object') return put(String(x));
    if (depth >= 4) return put(Array.isArray(x) ? '[…]' : '{…}');
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let i = 0; i < x.length; i++) {
        if ((i > 0 && !put(',')) || !walk(x[i], depth + 1)) return false;
      }
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const k in x as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(x, k)) continue;
      if ((!first && !put(',')) || !put(`${JSON.stringify(k.length > max ? k.slice(0, max) : k)}:`)) return false;
      first = false;
      if (!walk((x as Record<string, unknown>)[k], depth + 1)) return false;
    }
    return put('}');
  };
  walk(v, 0);
  return capText(escapeControls(out), max);
}

/**
 * True when a parsed JSON value nests arrays / objects more than `limit` levels deep
 * (the value itself is level 1). Iterative, so any depth is safe to check; call it
 * before anything recursive (JSON.stringify, structured clone, a recursive walk) sees
 * the value.
 */
export function jsonNestedDeeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
    } else {
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
      }
    }
  }
  return false;
}

/** A byte count for people: "512 bytes", "3.5 KiB", "2.0 GiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`;
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** True when s holds a control character (see escapeControls). */
export function hasControls(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s);
}
