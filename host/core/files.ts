/**
 * Reading untrusted files with a size bound, and writing every output file the CLI
 * produces the same safe way:
 *
 *  - the path is checked first: symbolic links are followed to the file they name,
 *    which must be a regular file (or not exist yet); devices, FIFOs, sockets and
 *    directories are refused, and so is a path that is one of the command's inputs;
 *  - directories on pseudo file systems (/proc, /sys, …) are refused, and missing
 *    directories are created one level at a time, so nothing can loop;
 *  - the bytes go to a temp file in the target's directory, are fsync'ed, and the temp
 *    file is renamed over the target: readers see the old file or the whole new one,
 *    never a truncated one. On any failure the temp file is removed and the old file is
 *    left as it was.
 *
 * Every failure is one FormatError naming the path and the reason in words.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError, FormatError } from './errors';
import { formatBytes, oneLineMessage } from './text';

/** An error's message as one bounded printable line (for one-line CLI errors). */
export function oneLine(e: unknown, max = 200): string {
  return oneLineMessage((e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' '), max);
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EXDEV: 'not on the same file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EINVAL: 'invalid argument',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
};

/** What went wrong in an fs call, in words with the errno code: "no space left on the device (ENOSPC)". */
export function ioReason(e: unknown): string {
  if (e instanceof BitweaveError) return e.message;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && ERRNO_WORDS[code]) return `${ERRNO_WORDS[code]} (${code})`;
  return code ? `${oneLine(e)} (${code})` : oneLine(e);
}

/**
 * Read a whole file, refusing anything larger than `limit` bytes or not a regular file.
 * Missing/unreadable files become FormatError too, so callers print one line, not a stack.
 */
export function readFileBounded(path: string, limit: number): Buffer {
  let size: number;
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new FormatError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(path, `cannot read (${ioReason(e)})`);
  }
  if (size > limit) throw new FormatError(path, `file is ${sizeText(size)}, more than the ${limitText(limit)} limit`);
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new FormatError(path, `cannot read (${ioReason(e)})`);
  }
}

/** "42 bytes" or "2.0 GiB (2147483648 bytes)". */
function sizeText(n: number): string {
  return n < 1024 ? formatBytes(n) : `${formatBytes(n)} (${n} bytes)`;
}

/** "10-byte" or "256.0 MiB". */
function limitText(n: number): string {
  return n < 1024 ? `${n}-byte` : formatBytes(n);
}

// ---- output paths -----------------------------------------------------------------

export interface OutputOptions {
  /** Files the command reads: the output may not be (a link to) any of them. */
  inputs?: readonly (string | undefined | null)[];
  /** Create missing directories on the way (default: a missing directory is an error). */
  mkdirs?: boolean;
}

/** Linux statfs magic numbers of file systems that hold no user files. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x0027e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x1cd1: 'devpts',
  0x6165676c: 'pstore',
  0xcafe4a11: 'bpf',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
  0x42494e4d: 'binfmt_misc',
  0x65735543: 'fusectl',
  0x19800202: 'mqueue',
  0x6e736673: 'nsfs',
  0xf97cff8c: 'selinuxfs',
  0x43415d53: 'smackfs',
};

/** The pseudo file system `dir` (an existing directory) lives on, or null. */
export function pseudoFileSystem(dir: string): string | null {
  if (process.platform !== 'linux' || typeof fs.statfsSync !== 'function') return null;
  try {
    const type = fs.statfsSync(dir).type >>> 0;
    return PSEUDO_FS[type] ?? null;
  } catch {
    return null;
  }
}

/** What kind of non-regular file `st` is, for "it is …". */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function statOrNull(p: string, follow = true): fs.Stats | null {
  try {
    return follow ? fs.statSync(p) : fs.lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Follow symbolic links at the last component of `p` (an absolute path), dangling ones
 * too, to the path the data really goes to. At most 40 links, as the kernel allows.
 */
export function followLinks(p: string, fail: (msg: string) => never): string {
  let target = p;
  for (let hops = 0; ; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return target;
      return fail(`cannot write: ${ioReason(e)}`);
    }
    if (!st.isSymbolicLink()) return target;
    if (hops >= 40) fail(`cannot write: ${ERRNO_WORDS.ELOOP} (ELOOP)`);
    let link: string;
    try {
      link = fs.readlinkSync(target);
    } catch (e) {
      return fail(`cannot write: ${ioReason(e)}`);
    }
    target = path.resolve(path.dirname(target), link);
  }
}

/**
 * Make `dir` and any missing parents, one level at a time (Node's recursive mkdir loops
 * forever where mkdir fails without making progress, e.g. under /proc). Refuses pseudo
 * file systems. `what` names the output in errors. With `dryRun`, only checks that the
 * directories could be made (nearest existing ancestor: a directory, writable, on a disk).
 */
export function makeDirs(dir: string, what: string, dryRun = false): void {
  const fail = (msg: string): never => {
    throw new FormatError(what, msg);
  };
  const missing: string[] = [];
  let p = path.resolve(dir);
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return fail(`cannot use directory ${p}: ${ioReason(e)}`);
      missing.unshift(p);
      const up = path.dirname(p);
      if (up === p) return fail(`cannot use directory ${p}: ${ioReason(e)}`);
      p = up;
      continue;
    }
    if (!st.isDirectory()) fail(`cannot write: ${p} is ${kindOf(st)}, not a directory`);
    break;
  }
  const pseudo = pseudoFileSystem(p);
  if (pseudo) fail(`cannot write under ${p}: it is on the ${pseudo} pseudo file system, which holds no files; choose a directory on a disk`);
  if (missing.length === 0) return;
  if (dryRun) {
    try {
      fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      fail(`cannot create directory ${missing[0]}: ${ioReason(e)}`);
    }
    return;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statOrNull(d)?.isDirectory()) continue;
      fail(`cannot create directory ${d}: ${ioReason(e)}`);
    }
    // mkdir said yes: the directory must now be there, or the file system is not a disk
    if (!statOrNull(d)?.isDirectory()) fail(`cannot create directory ${d}: it does not appear after mkdir`);
  }
}

/**
 * Check an output file path before anything is computed or written, and return the
 * path the bytes will really go to (symbolic links followed). Throws FormatError (naming
 * `file`) for: an empty path, a target that is a device / FIFO / socket / directory, a
 * target that is one of `opts.inputs`, a read-only target, a missing directory (unless
 * `mkdirs`: then missing directories are only checked to be creatable, see writeFileAtomic),
 * a directory on a pseudo file system.
 */
export function checkOutputFile(file: string, opts: OutputOptions = {}): string {
  if (typeof file !== 'string' || file === '') throw new BitweaveError('the output path is empty');
  const fail = (msg: string): never => {
    throw new FormatError(file, msg);
  };
  const target = followLinks(path.resolve(file), fail);
  const via = target === path.resolve(file) ? '' : ` (a symbolic link to ${target})`;
  const dir = path.dirname(target);
  const dst = statOrNull(dir);
  if (!dst) {
    if (opts.mkdirs) makeDirs(dir, file, true);
    else {
      // say which part is missing or wrong
      try {
        fs.statSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        fail(`cannot write${via}: ${ioReason(e)}${code === 'ENOENT' ? `: the directory ${dir} does not exist` : ''}`);
      }
    }
  } else {
    if (!dst.isDirectory()) fail(`cannot write${via}: ${dir} is ${kindOf(dst)}, not a directory`);
    const pseudo = pseudoFileSystem(dir);
    if (pseudo) fail(`cannot write${via}: ${dir} is on the ${pseudo} pseudo file system, which holds no files; choose a directory on a disk`);
  }
  const st = statOrNull(target);
  if (st) {
    if (!st.isFile()) fail(`cannot write${via}: it is ${kindOf(st)}; give the path of a regular file`);
    for (const input of opts.inputs ?? []) {
      if (!input) continue;
      const ist = statOrNull(input);
      if (ist && ist.dev === st.dev && ist.ino === st.ino) {
        fail(`cannot write${via}: it is the input file ${input}; choose another output path`);
      }
    }
    try {
      fs.accessSync(target, fs.constants.W_OK);
    } catch (e) {
      fail(`cannot write${via}: ${ioReason(e)}`);
    }
  }
  return target;
}

/** Chunks written per write(2) call. */
const WRITE_CHUNK = 64 << 20;

/**
 * Write `data` to `file` atomically (see the module comment): checked with
 * checkOutputFile, written to a temp file beside the real target, fsync'ed, renamed over
 * it. An existing target keeps its permission bits. On failure the temp file is removed,
 * the target is untouched, and a FormatError names `file` and the reason.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[], opts: OutputOptions = {}): void {
  const target = checkOutputFile(file, opts);
  const dir = path.dirname(target);
  if (opts.mkdirs) makeDirs(dir, file);
  const chunks: Uint8Array[] = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : [...data];
  const old = statOrNull(target);
  const mode = old ? old.mode & 0o7777 : 0o666;
  const base = path.basename(target).slice(0, 200);
  const tmp = path.join(dir, `.${base}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  let fd = -1;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    for (const c of chunks) {
      for (let off = 0; off < c.byteLength; ) {
        const n = fs.writeSync(fd, c, off, Math.min(WRITE_CHUNK, c.byteLength - off));
        if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        off += n;
      }
    }
    if (old) fs.fchmodSync(fd, mode); // the umask applied to openSync's mode
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd >= 0) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // it may never have been created
    }
    throw new FormatError(file, `cannot write: ${ioReason(e)}`);
  }
  // make the rename itself durable; not every file system can fsync a directory
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/**
 * Check an output *directory* path (a build directory): symbolic links followed, the
 * target must be a directory or not exist, its parent is created (never on a pseudo file
 * system, never looping). Returns the real path to write.
 */
export function prepareOutputDir(dir: string): string {
  if (typeof dir !== 'string' || dir === '') throw new BitweaveError('the output path is empty');
  const fail = (msg: string): never => {
    throw new FormatError(dir, msg);
  };
  const target = followLinks(path.resolve(dir), fail);
  const st = statOrNull(target);
  if (st && !st.isDirectory()) fail(`cannot write: it is ${kindOf(st)}, not a directory`);
  makeDirs(path.dirname(target), dir);
  if (st) {
    const pseudo = pseudoFileSystem(target);
    if (pseudo) fail(`cannot write: it is on the ${pseudo} pseudo file system, which holds no files; choose a directory on a disk`);
  }
  return target;
}
