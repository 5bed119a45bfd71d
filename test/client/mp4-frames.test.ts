import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mp4VideoFrames } from '../../client/src/model/mp4-frames.ts';
import { ensureSampleMedia, SAMPLE } from '../../server/demo/sample-media.ts';

const folder = mkdtempSync(path.join(tmpdir(), 'limelight-mp4-frames-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('an MP4 video track’s frames, read from its boxes', () => {
  it('counts the sample clip’s frames and reads its rate', async () => {
    await ensureSampleMedia(folder);
    const bytes = new Uint8Array(readFileSync(path.join(folder, SAMPLE.video)));
    expect(mp4VideoFrames(bytes)).toEqual({ count: SAMPLE.frames, fps: SAMPLE.fps });
  });
  it('returns null for bytes that are not an MP4', () => {
    expect(mp4VideoFrames(new TextEncoder().encode('not a video at all'))).toBeNull();
    expect(mp4VideoFrames(new Uint8Array(0))).toBeNull();
  });
});
