/**
 * koffi bindings of the HLS C-simulation library (build/libbitweave_hls.so, built by
 * `make csim` from hls/: the Vitis HLS kernel compiled with g++). Loaded lazily, once.
 * The C side re-checks every descriptor against the buffer lengths it is given and returns
 * an error code with a message; callers check lengths and alignment before calling.
 */
import { BitweaveError } from '../../core/errors';
import { libraryPath, loadLibrary, NativeLibrary } from '../../core/native-lib';
import { HLS_CSIM_SHAPES, HLS_ERRORS } from '../../array/limits';

export const HLS_LIBRARY: NativeLibrary = { what: 'HLS C-simulation library', env: 'BITWEAVE_HLS_LIB', file: 'libbitweave_hls.so', make: 'csim' };
export const HLS_LIB_PATH = libraryPath(HLS_LIBRARY);

export const HLS_OK = HLS_ERRORS.OK.code;

/** What the library was compiled with (bitweave_array.h and the kernel's buffer bounds). */
export interface HlsInfo {
  rows: number;
  cols: number;
  word: number;
  accBits: number;
  descWords: number;
  maxFmWords: number;
  maxKWords: number;
  maxOutC: number;
  maxBits: number;
}

export interface HlsLib {
  info: HlsInfo;
  /** Array shapes compiled into the library besides the header's. */
  variants: { rows: number; cols: number }[];
  check(program: Uint32Array, layers: number, weightWords: number, paramEntries: number, arenaWords: number): { rc: number; msg: string };
  run(
    rows: number, cols: number, program: Uint32Array, layers: number, weights: Uint32Array, params: Int32Array,
    arena: Uint32Array, arenaWords: number, images: number, threads: number,
  ): { rc: number; msg: string };
  /** Tiles (slot × channel group) of every layer as the kernel schedules them for one call on `images` images. */
  tiles(rows: number, cols: number, program: Uint32Array, layers: number, images: number): number[];
}

let lib: HlsLib | null = null;

const MSG = 512;

function text(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
}

export function hlsLib(): HlsLib {
  if (lib) return lib;
  const h = loadLibrary(HLS_LIBRARY);
  const infoFn = h.func('int32_t bw_hls_info(_Out_ int32_t *out, int32_t n)');
  const checkFn = h.func('int32_t bw_hls_check(const void *program, int64_t program_len, uint32_t layers, int64_t weight_words, int64_t param_entries, uint32_t arena_words, _Out_ uint8_t *msg, int32_t msg_len)');
  const runFn = h.func(
    'int32_t bw_hls_run(int32_t rows, int32_t cols, const void *program, int64_t program_len, uint32_t layers, const void *weights, int64_t weight_words, const void *params, int64_t param_entries, void *arena, int64_t arena_len, uint32_t arena_words, uint32_t images, int32_t threads, _Out_ uint8_t *msg, int32_t msg_len)',
  );
  const tilesFn = h.func('int32_t bw_hls_tiles(int32_t rows, int32_t cols, const void *program, int64_t program_len, uint32_t layers, uint32_t images, _Out_ uint32_t *tiles, int32_t tiles_len, _Out_ uint8_t *msg, int32_t msg_len)');
  const raw = new Int32Array(9);
  const n = infoFn(raw, raw.length) as number;
  if (n < raw.length) throw new BitweaveError(`${libraryPath(HLS_LIBRARY)}: bw_hls_info reports ${n} fields, expected ${raw.length} (rebuild with 'make csim')`);
  const [rows, cols, word, accBits, descWords, maxFmWords, maxKWords, maxOutC, maxBits] = Array.from(raw);
  lib = {
    info: { rows, cols, word, accBits, descWords, maxFmWords, maxKWords, maxOutC, maxBits },
    variants: [{ rows, cols }, ...HLS_CSIM_SHAPES],
    check(program, layers, weightWords, paramEntries, arenaWords) {
      const msg = Buffer.alloc(MSG);
      const rc = checkFn(program, program.length, layers, weightWords, paramEntries, arenaWords, msg, MSG) as number;
      return { rc, msg: text(msg) };
    },
    run(r, c, program, layers, weights, params, arena, arenaWords, images, threads) {
      const msg = Buffer.alloc(MSG);
      const rc = runFn(
        r, c, program, program.length, layers, weights, weights.length / 2, params, params.length, arena, arena.length / 2, arenaWords, images, threads, msg, MSG,
      ) as number;
      return { rc, msg: text(msg) };
    },
    tiles(r, c, program, layers, images) {
      const msg = Buffer.alloc(MSG);
      const out = new Uint32Array(Math.max(1, layers));
      const rc = tilesFn(r, c, program, program.length, layers, images, out, out.length, msg, MSG) as number;
      if (rc !== HLS_OK) throw new BitweaveError(`hls-csim: bw_hls_tiles: ${text(msg) || `error ${rc}`}`);
      return Array.from(out.subarray(0, layers));
    },
  };
  return lib;
}
