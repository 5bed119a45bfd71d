import { describe, expect, it } from 'vitest';
import { canonicalJson, nodeCacheKey } from '../../server/engine/cache-key.ts';
import { MemoryCache } from '../../server/engine/memory-cache.ts';
import { decodeValue, encodeValue, NotPersistableError } from '../../server/engine/serialize.ts';
import { byteSize, MutationGuard } from '../../server/engine/cached-values.ts';

describe('cache keys', () => {
  it('are independent of key order and change with any part', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    const parts = { type: 'T', version: 1, literals: { x: 1, y: 'a' }, links: { s: ['1', 0] as [string, number] } };
    const keyOf = () => 'parent-key';
    const base = nodeCacheKey(parts, keyOf);
    expect(nodeCacheKey({ ...parts, literals: { y: 'a', x: 1 } }, keyOf)).toBe(base);
    expect(nodeCacheKey({ ...parts, version: 2 }, keyOf)).not.toBe(base);
    expect(nodeCacheKey({ ...parts, fingerprint: 'file-hash' }, keyOf)).not.toBe(base);
    expect(nodeCacheKey({ ...parts, links: { s: ['1', 1] } }, keyOf)).not.toBe(base);
    expect(nodeCacheKey(parts, () => 'other-parent')).not.toBe(base);
  });
});

describe('memory cache', () => {
  const entry = (bytes: number) => ({ outputs: [], bytes, guard: new MutationGuard(null) });

  it('evicts the least recently used entry first and refuses entries over budget', () => {
    const cache = new MemoryCache(300);
    cache.set('a', entry(100));
    cache.set('b', entry(100));
    cache.set('c', entry(100));
    cache.get('a'); // a is now the most recently used
    cache.set('d', entry(100));
    expect(cache.has('b')).toBe(false);
    expect(['a', 'c', 'd'].every((k) => cache.has(k))).toBe(true);
    expect(cache.set('huge', entry(301))).toBe(false);
    expect(cache.stats()).toEqual({ entries: 3, bytes: 300, budgetBytes: 300 });
  });
});

describe('values', () => {
  it('counts typed-array bytes once per buffer', () => {
    const buffer = new Float32Array(256);
    expect(byteSize({ a: buffer, b: buffer.subarray(10) })).toBeGreaterThanOrEqual(1024);
    expect(byteSize({ a: buffer, b: buffer.subarray(10) })).toBeLessThan(2048);
  });

  it('the guard sees a single changed byte', () => {
    const frames = [new Uint8Array(1001), new Uint8Array(1001)];
    const guard = new MutationGuard({ frames });
    expect(guard.firstChange()).toBeNull();
    frames[1][1000] = 1;
    expect(guard.firstChange()).toBe('frames.1');
  });
});

describe('disk serialization', () => {
  it('round-trips plain data with typed arrays, non-finite numbers and nesting', () => {
    const value = { width: 3, fps: Infinity, nan: NaN, frames: [new Uint8Array([1, 2, 3]), new Uint8Array([4])], mask: new Float32Array([0.5, -1]), meta: { name: 'é', list: [1, null] } };
    const decoded = decodeValue(encodeValue(value)) as typeof value;
    expect(decoded.frames[0]).toEqual(new Uint8Array([1, 2, 3]));
    expect(decoded.frames[1]).toEqual(new Uint8Array([4]));
    expect(decoded.mask).toBeInstanceOf(Float32Array);
    expect(Array.from(decoded.mask)).toEqual([0.5, -1]);
    expect(decoded.fps).toBe(Infinity);
    expect(decoded.nan).toBeNaN();
    expect(decoded.meta).toEqual({ name: 'é', list: [1, null] });
  });

  it('refuses class instances and detects truncation', () => {
    expect(() => encodeValue({ when: new Map() })).toThrow(NotPersistableError);
    const bytes = encodeValue({ data: new Float64Array(100) });
    expect(() => decodeValue(bytes.subarray(0, bytes.length - 16))).toThrow(/truncated/);
  });
});
