/**
 * What the image decoders' exceptions mean, in our words. pngjs and jpeg-js report
 * damage with their internals ("There are some read requests waitng on finished
 * stream", "Cannot set properties of undefined (setting 'huffmanTableDC')"); users get
 * what is wrong with their file instead. Unknown messages become a plain "corrupt …".
 */
import { formatBytes } from '../core/text';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why pngjs could not decode a file, after "corrupt PNG: ". */
export function pngProblem(e: unknown): string {
  const m = message(e);
  if (/waitng on finished stream|waiting on finished stream|Ran out of data|Unexpected end of input|unexpected end of file/i.test(m)) {
    return 'the file ends inside the image data (truncated)';
  }
  if (/Crc error/i.test(m)) return 'a chunk checksum (CRC) does not match its data (damaged file)';
  // pngjs' sync reader stops at a rejected chunk (bad CRC, say) and reports the bytes left over
  if (/unrecognised content at end of stream/i.test(m)) return 'a chunk is damaged (its checksum or structure is wrong)';
  if (/extra data found/i.test(m)) return 'unexpected data after the image (damaged file)';
  if (/Unsupported critical chunk type/i.test(m)) return 'an unknown critical chunk (damaged file, or a PNG extension this reader does not support)';
  if (/Invalid file signature|Expected IHDR/i.test(m)) return 'the PNG header is damaged';
  if (/Unsupported (bit depth|color type|compression method|filter method|interlace method)|unrecognised depth|unrecognised color Type/i.test(m)) {
    return 'its header declares a bit depth, colour type or method that does not exist';
  }
  if (/palette|transparen/i.test(m)) return 'the palette or transparency data is inconsistent';
  if (/filter type/i.test(m)) return 'a row uses an unknown filter (damaged image data)';
  if (/inflate|compressed data|invalid (block|distance|code|stored)|incorrect header check|too many length/i.test(m)) {
    return 'the compressed image data is damaged';
  }
  return 'the image data cannot be decoded';
}

/** Why jpeg-js could not decode `bytes`, after "corrupt JPEG: " (or a limit message). */
export function jpegProblem(e: unknown, bytes: Uint8Array, limits: { pixels: number; memoryMB: number }): string {
  const m = message(e);
  // no end-of-image marker (FF D9) anywhere: whatever the decoder tripped over, the file was cut short
  let eoi = false;
  for (let i = bytes.length - 2; i >= 2 && !eoi; i--) eoi = bytes[i] === 0xff && bytes[i + 1] === 0xd9;
  if (!eoi && !/maxResolutionInMP|maxMemoryUsageInMB/.test(m)) return 'the file ends before its end-of-image marker (truncated)';
  if (/maxResolutionInMP/.test(m)) return `the image is larger than the ${limits.pixels.toLocaleString('en-US')}-pixel limit`;
  if (/maxMemoryUsageInMB|Could not allocate enough memory/.test(m)) return `decoding it needs more than the ${formatBytes(limits.memoryMB * 2 ** 20)} limit`;
  if (/only single frame|Unsupported color mode/i.test(m)) return 'unsupported JPEG variant (several frames, or a colour mode other than grey, YCbCr or RGB)';
  // TypeErrors from inside the decoder: headers that refer to things that do not exist
  if (e instanceof TypeError || /Cannot (read|set) propert|undefined|null/.test(m)) return 'its headers refer to tables or components that are not there (damaged file)';
  if (/huffman/i.test(m)) return 'a Huffman table or the data coded with it is damaged';
  if (/DQT|quantization/i.test(m)) return 'a quantisation table is damaged';
  if (/sampling factor/i.test(m)) return 'the frame header has an invalid sampling factor';
  if (/SOI not found/.test(m)) return 'no start-of-image marker';
  if (/marker|ACn encoding/i.test(m)) return 'an unexpected or missing marker (damaged or truncated file)';
  return 'the image data cannot be decoded';
}
