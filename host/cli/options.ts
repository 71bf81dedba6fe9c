/**
 * Option definitions and checks shared by every CLI command:
 *  - the model options (`modelOptions` / `modelLoadOptions`): one definition of --params,
 *    --input-shape, the preprocessing options and --labels for every command that loads a
 *    model, resolved by one loader (host/zoo/models.ts `loadNamedModel`);
 *  - numbers (`intOption`, `numberOption`): NaN, non-integers and out-of-range values are
 *    one-line errors naming the option;
 *  - strings (`stringOption`): an empty value is an error;
 *  - an option given twice is an error (`rejectRepeated`), and option values that start
 *    with '-' followed by a digit (`--input-shape -1,28,28`, `--mean -0.5`) are read as
 *    values, not as flags (`normalizeArgv`).
 */
import { Argv, Options } from 'yargs';
import { BitweaveError } from '../core/errors';
import { PreprocessSpec, readLabels } from '../data/preprocess';
import { LoadOptions } from '../runtime/convert';

/** Flags that take no value: a negative number after them is not theirs. */
const BOOLEAN_FLAGS = new Set(['json', 'force', 'one-launch', 'help', 'version', 'layers', 'quick', 'bmxnet', 'no-bmxnet', 'preprocess', 'write-flash']);

/**
 * `--opt -1,28,28` -> `--opt=-1,28,28`: yargs would read "-1,28,28" as flags ("Unknown
 * argument: 1"). Applies to any option that takes a value (everything but BOOLEAN_FLAGS).
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const next = argv[i + 1];
    const m = /^--?([A-Za-z][\w-]*)$/.exec(t);
    if (m && next !== undefined && /^-\.?\d/.test(next) && !BOOLEAN_FLAGS.has(m[1])) {
      out.push(`${t}=${next}`);
      i++;
    } else {
      out.push(t);
    }
    if (t === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
  }
  return out;
}

/** The command line being parsed, for messages that quote what the user typed. */
let rawArgv: readonly string[] = [];
export function setRawArgv(argv: readonly string[]): void {
  rawArgv = argv;
}

/** What the user typed for option `name` (or one of its aliases), for messages. */
function typed(names: string[], v: unknown): string {
  for (let i = 0; i < rawArgv.length; i++) {
    for (const n of names) {
      const flag = n.length === 1 ? `-${n}` : `--${n}`;
      if (rawArgv[i] === flag && i + 1 < rawArgv.length) return `'${rawArgv[i + 1]}'`;
      if (rawArgv[i].startsWith(`${flag}=`)) return `'${rawArgv[i].slice(flag.length + 1)}'`;
    }
  }
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function once(name: string, v: unknown): void {
  if (Array.isArray(v)) throw new BitweaveError(`--${name} was given ${v.length} times; give it once`);
}

type Extra = { default?: number; alias?: string; hidden?: boolean; demandOption?: boolean };

/** An integer option in [min, max]: `.option(...intOption('top', 'classes per image', 1, 1000, { default: 3 }))`. */
export function intOption(name: string, describe: string, min: number, max: number, extra: Extra = {}): [string, Options] {
  const names = [name, ...(extra.alias ? [extra.alias] : [])];
  return [name, {
    type: 'number', describe, ...extra,
    coerce: (v: unknown) => {
      once(name, v);
      if (v === undefined) return v;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        throw new BitweaveError(`--${name} must be an integer in ${min}..${max}, got ${typed(names, v)}`);
      }
      return v;
    },
  }];
}

/** A finite number option in (min, max] (`minExclusive`) or [min, max]. */
export function numberOption(name: string, describe: string, range: { min: number; max: number; minExclusive?: boolean }, extra: Extra = {}): [string, Options] {
  const names = [name, ...(extra.alias ? [extra.alias] : [])];
  const { min, max, minExclusive } = range;
  return [name, {
    type: 'number', describe, ...extra,
    coerce: (v: unknown) => {
      once(name, v);
      if (v === undefined) return v;
      if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (minExclusive ? v <= min : v < min)) {
        throw new BitweaveError(`--${name} must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${typed(names, v)}`);
      }
      return v;
    },
  }];
}

/** A string option that must not be empty (file names, lists). */
export function stringOption(name: string, describe: string, extra: { alias?: string; demandOption?: boolean; hidden?: boolean; default?: string } = {}): [string, Options] {
  return [name, {
    type: 'string', describe, ...extra,
    coerce: (v: unknown) => {
      once(name, v);
      if (v === undefined) return v;
      if (typeof v !== 'string' || v.trim() === '') throw new BitweaveError(`--${name} must not be empty`);
      return v;
    },
  }];
}

/**
 * yargs middleware: an option given more than once (yargs makes an array of it) is an
 * error, whatever its type, instead of reaching a command as an array.
 */
/** Variadic positionals (`serve <models..>`): lists by design. */
const LIST_ARGUMENTS = new Set(['models']);

export function rejectRepeated(argv: Record<string, unknown>): void {
  const repeated = (k: string, v: unknown): v is unknown[] => k !== '_' && k !== '$0' && !LIST_ARGUMENTS.has(k) && Array.isArray(v);
  for (const [k, v] of Object.entries(argv)) {
    if (!repeated(k, v)) continue;
    // report the spelled-out name once (yargs also sets aliases and camelCase copies)
    const name = k.length > 1 && !/[A-Z]/.test(k) ? k : undefined;
    if (name) throw new BitweaveError(`--${name} was given ${v.length} times; give it once`);
  }
  for (const [k, v] of Object.entries(argv)) {
    if (repeated(k, v)) throw new BitweaveError(`-${k.length > 1 ? '-' : ''}${k} was given ${v.length} times; give it once`);
  }
}

// ---- parsers ----------------------------------------------------------------------------

/** `--input-shape C,H,W` (or CxHxW) -> [C, H, W]. */
export function parseShape(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const dims = s.split(/[,x]/).map((d) => (d.trim() === '' ? NaN : Number(d.trim())));
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 65536)) {
    throw new BitweaveError(`--input-shape must be C,H,W: the model input's channels, height and width as integers in 1..65536, got '${s}'`);
  }
  return dims;
}

/** `--crop HxW`, `H,W` or `N` (square) -> [H, W]. */
export function parseCrop(s: string | undefined): [number, number] | undefined {
  if (s === undefined) return undefined;
  const dims = s.split(/[,x]/).map((d) => (d.trim() === '' ? NaN : Number(d.trim())));
  if ((dims.length !== 1 && dims.length !== 2) || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 65536)) {
    throw new BitweaveError(`--crop must be HxW or N (the model input's height and width, integers in 1..65536), got '${s}'`);
  }
  return dims.length === 1 ? [dims[0], dims[0]] : [dims[0], dims[1]];
}

/** `--mean 123.68,116.779,103.939` or one value -> numbers. */
export function parseNumberList(s: string | undefined, flag: string): number[] | undefined {
  if (s === undefined) return undefined;
  const v = s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x.trim())));
  if (v.length < 1 || v.some((x) => !Number.isFinite(x))) {
    throw new BitweaveError(`--${flag} must be one number or one per input channel, separated by commas, got '${s}'`);
  }
  return v;
}

// ---- the model options ------------------------------------------------------------------

const MODEL_GROUP = 'Model options (BMXNet symbols and zoo models; a .bnn keeps its own):';

/** The options every command that loads a model takes (one definition). */
export function modelOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option(...stringOption('params', 'BMXNet .params file (default: <prefix>-NNNN.params beside the symbol)'))
    .option('input-shape', { type: 'string', describe: 'input shape C,H,W (default: inferred from the model where it fixes it)' })
    .option('mean', { type: 'string', describe: 'preprocessing: mean subtracted per channel, r,g,b or one value (in the --scale range)' })
    .option('std', { type: 'string', describe: 'preprocessing: std dividing per channel, r,g,b or one value (default 1)' })
    .option(...numberOption('scale', 'preprocessing: pixel range, u8 becomes u8*scale/255 (1: [0,1], 255: 0..255; default 1)', { min: 0, max: 65536, minExclusive: true }))
    .option('channel-order', { type: 'string', choices: ['rgb', 'bgr'], describe: 'preprocessing: channel order of a 3-channel input (default rgb)' })
    .option(...intOption('resize', 'preprocessing: resize the shorter side to N (aspect kept), then centre-crop to the input size', 1, 65536))
    .option('resize-policy', { type: 'string', choices: ['stretch', 'shorter-side'], describe: 'preprocessing: stretch to the input size, or shorter side + centre crop (default: shorter-side with --resize/--crop, else stretch)' })
    .option('crop', { type: 'string', describe: 'preprocessing: centre crop HxW or N = the input height x width (channels inferred)' })
    .option(...stringOption('labels', 'class labels file, one per line (e.g. an ImageNet synset list), stored with the model'))
    .group(['params', 'input-shape', 'mean', 'std', 'scale', 'channel-order', 'resize', 'resize-policy', 'crop', 'labels'], MODEL_GROUP) as unknown as Argv<T>;
}

/** Parsed model options as LoadOptions (files read, lists parsed; one-line errors). */
export function modelLoadOptions(a: Record<string, unknown>): LoadOptions {
  const str = (k: string): string | undefined => {
    const v = a[k];
    once(k, v);
    return v === undefined ? undefined : String(v);
  };
  const preprocess: PreprocessSpec = {
    mean: parseNumberList(str('mean'), 'mean'),
    std: parseNumberList(str('std'), 'std'),
    scale: a.scale as number | undefined,
    channelOrder: str('channel-order') as PreprocessSpec['channelOrder'],
    resize: a.resize as number | undefined,
    resizePolicy: str('resize-policy') as PreprocessSpec['resizePolicy'],
    crop: parseCrop(str('crop')),
  };
  const labels = str('labels');
  return {
    params: str('params'),
    inputShape: parseShape(str('input-shape')),
    preprocess,
    labels: labels === undefined ? undefined : readLabels(labels),
  };
}
