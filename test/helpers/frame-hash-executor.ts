// A chunk executor for the queue tests: per frame, a SHA-256 chain over the seed, the frame index and an
// input file's bytes, paced by a sleep so chunks overlap across workers. Its output depends only on the
// spec, so any worker, in any order, must give the same bytes as one process.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ChunkInterrupted, type ChunkExecutor } from '../../server/scale/chunk-executor.ts';

export interface FrameHashSpec {
  start: number;
  end: number;
  seed: string;
  msPerFrame: number;
  /** SHA-256 rounds per frame (default 200): CPU work, for the bench. */
  rounds?: number;
  /** An input file, by content hash, mixed into every frame. */
  input?: string;
  /** Fails every run (a chunk that keeps failing). */
  fail?: string;
  /** Ends the inference thread (a crash in native code, say). */
  exitThread?: boolean;
}

export function frameHashSpec(spec: FrameHashSpec): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(spec));
}

const run: ChunkExecutor = async (bytes, context) => {
  const spec = JSON.parse(new TextDecoder().decode(bytes)) as FrameHashSpec;
  if (spec.fail) throw new Error(spec.fail);
  if (spec.exitThread) process.exit(1);
  const input = spec.input ? await readFile(await context.inputFile(spec.input)) : Buffer.alloc(0);
  const out = new Uint8Array((spec.end - spec.start) * 32);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let frame = spec.start; frame < spec.end; frame++) {
    if (context.interrupted()) throw new ChunkInterrupted();
    let digest = createHash('sha256').update(`${spec.seed}:${frame}`).update(input).digest();
    for (let i = 0; i < (spec.rounds ?? 200); i++) digest = createHash('sha256').update(digest).digest();
    out.set(digest, (frame - spec.start) * 32);
    if (spec.msPerFrame > 0) Atomics.wait(pause, 0, 0, spec.msPerFrame);
  }
  return out;
};

export default run;
