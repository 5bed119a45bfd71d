// Reads the workflow (or API prompt) that Limelight embeds in its outputs, so a dropped PNG, MP4 or
// WebM reopens the graph that made it: PNG tEXt/iTXt chunks, MP4 `mdta` keys (`-movflags
// use_metadata_tags`), Matroska/WebM SimpleTags. Pure byte parsing, no DOM.

export interface EmbeddedGraph {
  workflow?: unknown;
  prompt?: unknown;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return latin1.decode(bytes.subarray(start, start + length));
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

// ---- PNG ----

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** `tEXt` (Latin-1) and uncompressed `iTXt` (UTF-8) chunks, keyword → text. */
function pngTextChunks(bytes: Uint8Array): Record<string, string> {
  const texts: Record<string, string> = {};
  let offset = PNG_SIGNATURE.length;
  while (offset + 12 <= bytes.length) {
    const length = u32(bytes, offset);
    const type = ascii(bytes, offset + 4, 4);
    const data = bytes.subarray(offset + 8, Math.min(bytes.length, offset + 8 + length));
    if (type === 'tEXt' || type === 'iTXt') {
      const nul = data.indexOf(0);
      if (nul > 0) {
        const keyword = latin1.decode(data.subarray(0, nul));
        if (type === 'tEXt') texts[keyword] = latin1.decode(data.subarray(nul + 1));
        else if (data[nul + 1] === 0) {
          // iTXt: compression flag, method, language tag\0, translated keyword\0, text.
          const language = data.indexOf(0, nul + 3);
          const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
          if (translated >= 0) texts[keyword] = utf8.decode(data.subarray(translated + 1));
        }
      }
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return texts;
}

// ---- ISO-BMFF (MP4 / MOV) ----

const CONTAINER_BOXES = new Set(['moov', 'udta', 'meta', 'ilst', 'trak', 'mdia']);

function isIsoBmff(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp';
}

export interface Box {
  type: string;
  start: number;
  end: number;
  /** Where the children (or payload) begin. */
  body: number;
}

/** The ISO-BMFF (MP4/MOV) boxes between two offsets. */
export function* boxes(bytes: Uint8Array, start: number, end: number): Generator<Box> {
  let offset = start;
  while (offset + 8 <= end) {
    let size = u32(bytes, offset);
    const type = ascii(bytes, offset + 4, 4);
    let header = 8;
    if (size === 1 && offset + 16 <= end) {
      size = u32(bytes, offset + 8) * 2 ** 32 + u32(bytes, offset + 12);
      header = 16;
    } else if (size === 0) size = end - offset;
    if (size < header || offset + size > end) return;
    let body = offset + header;
    // An ISO `meta` is a full box (4 bytes of version and flags); QuickTime's is a plain container.
    if (type === 'meta' && ascii(bytes, body + 4, 4) !== 'hdlr') body += 4;
    yield { type, start: offset, end: offset + size, body };
    offset += size;
  }
}

/** QuickTime `mdta` metadata (`keys` + `ilst`), key → text. */
function isoBmffMetadata(bytes: Uint8Array): Record<string, string> {
  const found: Record<string, string> = {};
  const visit = (start: number, end: number): void => {
    let keys: string[] = [];
    for (const box of boxes(bytes, start, end)) {
      if (box.type === 'keys') {
        keys = [];
        const count = u32(bytes, box.body + 4);
        let offset = box.body + 8;
        for (let i = 0; i < count && offset + 8 <= box.end; i++) {
          const size = u32(bytes, offset);
          keys.push(ascii(bytes, offset + 8, size - 8));
          offset += size;
        }
      } else if (box.type === 'ilst') {
        for (const item of boxes(bytes, box.body, box.end)) {
          const key = keys[u32(bytes, item.start + 4) - 1];
          const data = [...boxes(bytes, item.body, item.end)].find((b) => b.type === 'data');
          // data: 4 bytes type indicator, 4 bytes locale, then the value.
          if (key && data) found[key] = utf8.decode(bytes.subarray(data.body + 8, data.end));
        }
      } else if (CONTAINER_BOXES.has(box.type)) visit(box.body, box.end);
    }
  };
  visit(0, bytes.length);
  return found;
}

// ---- Matroska / WebM ----

const EBML_MAGIC = 0x1a45dfa3;
const MATROSKA_CONTAINERS = new Set([0x18538067 /* Segment */, 0x1254c367 /* Tags */, 0x7373 /* Tag */]);
const SIMPLE_TAG = 0x67c8;
const TAG_NAME = 0x45a3;
const TAG_STRING = 0x4487;

function isMatroska(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32(bytes, 0) === EBML_MAGIC;
}

/** A variable-length EBML integer: its value (marker kept for ids) and its length in bytes. */
function vint(bytes: Uint8Array, offset: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  const first = bytes[offset];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[offset + i];
    allOnes &&= bytes[offset + i] === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

/** Matroska SimpleTags (TagName → TagString); ffmpeg upper-cases the names. */
function matroskaTags(bytes: Uint8Array): Record<string, string> {
  const found: Record<string, string> = {};
  const visit = (start: number, end: number): void => {
    let offset = start;
    let name: string | undefined;
    let value: string | undefined;
    while (offset < end) {
      const id = vint(bytes, offset, true);
      const size = id && vint(bytes, offset + id.length, false);
      if (!id || !size) return;
      const body = offset + id.length + size.length;
      const stop = size.unknown ? end : Math.min(end, body + size.value);
      if (MATROSKA_CONTAINERS.has(id.value) || id.value === SIMPLE_TAG) visit(body, stop);
      else if (id.value === TAG_NAME) name = utf8.decode(bytes.subarray(body, stop));
      else if (id.value === TAG_STRING) value = utf8.decode(bytes.subarray(body, stop));
      offset = stop;
    }
    if (name !== undefined && value !== undefined) found[name] = value;
  };
  let offset = 0;
  // Skip the EBML header element, then read the Segment.
  const id = vint(bytes, 0, true);
  const size = id && vint(bytes, id.length, false);
  if (id && size) offset = id.length + size.length + size.value;
  visit(offset, bytes.length);
  return found;
}

// ---- Any file ----

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pick(metadata: Record<string, string>): EmbeddedGraph {
  const lower = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
  return { workflow: parseJson(lower.workflow), prompt: parseJson(lower.prompt) };
}

/** The workflow and prompt in a JSON, PNG, MP4/MOV or WebM/MKV file; empty when there is none. */
export function readEmbeddedGraph(bytes: Uint8Array): EmbeddedGraph {
  if (isPng(bytes)) return pick(pngTextChunks(bytes));
  if (isIsoBmff(bytes)) return pick(isoBmffMetadata(bytes));
  if (isMatroska(bytes)) return pick(matroskaTags(bytes));
  const json = parseJson(utf8.decode(bytes));
  if (json && typeof json === 'object') {
    const object = json as Record<string, unknown>;
    if (Array.isArray(object.nodes)) return { workflow: json };
    // A Limelight sidecar carries both; anything else is an API prompt.
    if ('workflow' in object || 'prompt' in object) return { workflow: object.workflow, prompt: object.prompt };
    return { prompt: json };
  }
  return {};
}
