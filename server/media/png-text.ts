// PNG text chunks: writing tEXt (what ComfyUI writes and every reader understands) and reading
// tEXt, zTXt and iTXt. sharp can read these only before IDAT and cannot write custom ones.
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  data: Buffer;
  /** Offset of the chunk's length field in the file. */
  start: number;
}

function readChunks(png: Buffer): Chunk[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  const chunks: Chunk[] = [];
  for (let offset = 8; offset + 12 <= png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > png.length) throw new Error(`PNG chunk ${type} runs past the end of the file (truncated?)`);
    chunks.push({ type, data: png.subarray(offset + 8, offset + 8 + length), start: offset });
    offset = end;
    if (type === 'IEND') break;
  }
  return chunks;
}

function encodeChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** tEXt is Latin-1 only: characters beyond ASCII become JSON-style \uXXXX escapes, which JSON.parse undoes. */
function asciiEscape(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Returns a copy of the PNG with a tEXt chunk per entry, placed before the image data so every reader sees them. */
export function addPngText(png: Buffer, entries: Record<string, string>): Buffer {
  const chunks = readChunks(png);
  const idat = chunks.find((c) => c.type === 'IDAT');
  if (!idat) throw new Error('PNG has no image data');
  const textChunks = Object.entries(entries).map(([key, value]) =>
    encodeChunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(asciiEscape(value), 'latin1')])),
  );
  return Buffer.concat([png.subarray(0, idat.start), ...textChunks, png.subarray(idat.start)]);
}

export function readPngText(png: Buffer): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const { type, data } of readChunks(png)) {
    const keyEnd = data.indexOf(0);
    if (keyEnd < 0) continue;
    const key = data.toString('latin1', 0, keyEnd);
    if (type === 'tEXt') texts[key] = data.toString('latin1', keyEnd + 1);
    else if (type === 'zTXt') texts[key] = inflateSync(data.subarray(keyEnd + 2)).toString('latin1');
    else if (type === 'iTXt') {
      const compressed = data[keyEnd + 1] === 1;
      const languageEnd = data.indexOf(0, keyEnd + 3);
      const translatedEnd = data.indexOf(0, languageEnd + 1);
      if (languageEnd < 0 || translatedEnd < 0) continue;
      const body = data.subarray(translatedEnd + 1);
      texts[key] = (compressed ? inflateSync(body) : body).toString('utf8');
    }
  }
  return texts;
}
