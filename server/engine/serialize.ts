// A compact binary form for plain data (typed arrays, numbers, strings, plain objects and arrays),
// used by the disk cache: a JSON header in which each typed array is a reference {type, length, offset}
// into the data section that follows, each array aligned to 8 so it can be viewed in place.
import { LimelightError } from '../errors.ts';

const MAGIC = 0x4c4c4331; // "LLC1"
const TYPED_ARRAYS = {
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
interface ArrayRef {
  __ta: TypedArrayName;
  n: number;
  o: number;
}

export class NotPersistableError extends LimelightError {}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}

/** The encoded form in pieces: a prefix (magic, header, padding) and each array with its padding. */
export interface EncodedParts {
  chunks: Uint8Array[];
  byteLength: number;
}

export function encodeParts(value: unknown): EncodedParts {
  const arrays: ArrayBufferView[] = [];
  let dataLength = 0;
  const header = JSON.stringify(value, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor.name;
      if (!(name in TYPED_ARRAYS)) throw new NotPersistableError(`cannot persist a ${name}`);
      const ref: ArrayRef = { __ta: name as TypedArrayName, n: (v as unknown as { length: number }).length, o: dataLength };
      arrays.push(v);
      dataLength = align8(dataLength + v.byteLength);
      return ref;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { __num: String(v) };
    if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') {
      throw new NotPersistableError(`cannot persist a ${typeof v}`);
    }
    if (isRecord(v) && !Array.isArray(v)) {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new NotPersistableError(`cannot persist a ${v.constructor?.name ?? 'class instance'}`);
    }
    return v;
  });
  const headerBytes = Buffer.from(header ?? 'null', 'utf8');
  const dataStart = align8(8 + headerBytes.length);
  const prefix = Buffer.alloc(dataStart);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  headerBytes.copy(prefix, 8);
  const chunks: Uint8Array[] = [prefix];
  for (const a of arrays) {
    chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const padding = align8(a.byteLength) - a.byteLength;
    if (padding > 0) chunks.push(new Uint8Array(padding));
  }
  return { chunks, byteLength: dataStart + dataLength };
}

export function encodeValue(value: unknown): Buffer {
  return Buffer.concat(encodeParts(value).chunks);
}

export function decodeValue(input: Buffer): unknown {
  const data = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  if (data.length < 8 || data.readUInt32LE(0) !== MAGIC) throw new Error('not a Limelight cache file');
  const headerLength = data.readUInt32LE(4);
  const dataStart = data.byteOffset + align8(8 + headerLength);
  return JSON.parse(data.subarray(8, 8 + headerLength).toString('utf8'), (_key, v: unknown) => {
    if (!isRecord(v)) return v;
    if ('__num' in v) return Number(v.__num);
    if ('__ta' in v) {
      const ref = v as unknown as ArrayRef;
      const Ctor = TYPED_ARRAYS[ref.__ta];
      if (!Ctor || dataStart + ref.o + ref.n * Ctor.BYTES_PER_ELEMENT > data.byteOffset + data.length) {
        throw new Error('truncated Limelight cache file');
      }
      return new Ctor(data.buffer as ArrayBuffer, dataStart + ref.o, ref.n);
    }
    return v;
  });
}
