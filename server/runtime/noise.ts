// Seeded Gaussian noise. Each (seed, stream) pair is an independent generator, so the noise a frame gets
// does not depend on how frames are batched: stream = f(step, frame) — or the same stream for every frame
// when the clip shares one noise (the temporal-stability baseline).

/** splitmix32-style mixing of 32-bit words into one well-spread seed word. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** xoshiro128** generator over four 32-bit words. */
class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    this.s0 = mix(seed, 1);
    this.s1 = mix(seed, 2);
    this.s2 = mix(seed, 3);
    this.s3 = mix(seed, 4) | 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1], never 0 (safe for log). */
  nextUnit(): number {
    return (this.nextUint32() + 1) / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Splits a seed up to 2^53 into two 32-bit words. */
function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be an integer between 0 and 2^53 − 1, got ${seed}`);
  return [seed % 4294967296, Math.floor(seed / 4294967296)];
}

/** `length` standard normal samples (Box–Muller) for a seed and a stream id. */
export function gaussianNoise(seed: number, stream: number, length: number): Float32Array {
  const [low, high] = seedWords(seed);
  const rng = new Xoshiro128(mix(mix(low, high), stream >>> 0));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(rng.nextUnit()));
    const angle = 2 * Math.PI * rng.nextUnit();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < length) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Stream id of the noise for a frame at a sampling step (step 0 = the initial noise). */
export function noiseStream(step: number, frame: number, perFrame: boolean): number {
  return mix(step, perFrame ? frame + 1 : 0);
}

/** A sampling run's noise: per (step, frame) stream; streams shared by every frame are generated once per clip. */
export class ClipNoise {
  private readonly cache = new Map<number, Float32Array>();

  constructor(
    private readonly seed: number,
    private readonly size: number,
    private readonly perFrame: boolean,
  ) {}

  at(step: number, frame: number): Float32Array {
    const stream = noiseStream(step, frame, this.perFrame);
    let values = this.cache.get(stream);
    if (!values) {
      values = gaussianNoise(this.seed, stream, this.size);
      if (!this.perFrame) this.cache.set(stream, values);
    }
    return values;
  }
}
