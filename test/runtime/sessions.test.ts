// The session cache: keyed by content (not path), re-created when a file changes, released under budget.
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../server/runtime/sessions.ts';
import { demoModel } from '../helpers/runtime-fixtures.ts';

describe('session cache', () => {
  it('shares a session between copies of the same files and re-creates it when a file changes', async () => {
    const a = demoModel();
    const b = path.join(path.dirname(a), 'copy');
    cpSync(a, b, { recursive: true });
    const cache = new SessionCache(1024 ** 3);
    const first = await cache.acquire(path.join(a, 'vae_decoder', 'model.onnx'), 'cpu');
    const copy = await cache.acquire(path.join(b, 'vae_decoder', 'model.onnx'), 'cpu');
    expect(copy.session).toBe(first.session);
    writeFileSync(path.join(b, 'vae_decoder', 'config.json'), '{"scaling_factor": 1}\n');
    const changed = await cache.acquire(path.join(b, 'vae_decoder', 'model.onnx'), 'cpu');
    expect(changed.session).not.toBe(first.session);
    for (const lease of [first, copy, changed]) lease.release();
    expect(cache.list()).toHaveLength(2);
  });

  it('releases idle sessions, least recently used first, to stay under its budget', async () => {
    const dir = demoModel();
    const cache = new SessionCache(0);
    const held = await cache.acquire(path.join(dir, 'unet', 'model.onnx'), 'cpu');
    const idle = await cache.acquire(path.join(dir, 'vae_decoder', 'model.onnx'), 'cpu');
    idle.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Over budget: the idle one goes, the one in use stays.
    expect(cache.list().map((s) => [path.basename(path.dirname(s.file)), s.inUse])).toEqual([['unet', true]]);
    held.release();
    await cache.clear();
    expect(cache.list()).toEqual([]);
  });
});
