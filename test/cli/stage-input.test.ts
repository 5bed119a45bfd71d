import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageIntoInput } from '../../server/cli/stage-input.ts';

function workspace() {
  const root = mkdtempSync(path.join(tmpdir(), 'limelight-stage-'));
  const input = path.join(root, 'input');
  const outside = path.join(root, 'outside');
  mkdirSync(input);
  mkdirSync(outside);
  const put = (file: string, text: string) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  return { input, outside, put };
}

describe('stageIntoInput', () => {
  it('copies a file in, reuses a copy with the same content, and never overwrites other content', async () => {
    const { input, outside, put } = workspace();
    const clip = put(path.join(outside, 'clip.mp4'), 'first');
    expect(await stageIntoInput(clip, input, 'file')).toEqual({ name: 'clip.mp4', how: 'copied' });
    expect(await stageIntoInput(clip, input, 'file')).toEqual({ name: 'clip.mp4', how: 'reused' });
    const other = put(path.join(outside, 'b/clip.mp4'), 'second');
    expect(await stageIntoInput(other, input, 'file')).toEqual({ name: 'clip (1).mp4', how: 'copied' });
    expect(readFileSync(path.join(input, 'clip.mp4'), 'utf8')).toBe('first');
    expect(readFileSync(path.join(input, 'clip (1).mp4'), 'utf8')).toBe('second');
    expect(readdirSync(input).sort()).toEqual(['clip (1).mp4', 'clip.mp4']); // no partial files left behind
  });

  it('uses a file or folder already at the top of the input folder in place', async () => {
    const { input, put } = workspace();
    put(path.join(input, 'masks/0001.png'), 'm');
    expect(await stageIntoInput(put(path.join(input, 'clip.mp4'), 'x'), input, 'file')).toEqual({ name: 'clip.mp4', how: 'in-place' });
    expect(await stageIntoInput(path.join(input, 'masks'), input, 'folder')).toEqual({ name: 'masks', how: 'in-place' });
    // Deeper down the loaders' lists do not reach: copied up.
    expect(await stageIntoInput(path.join(input, 'masks/0001.png'), input, 'file')).toEqual({ name: '0001.png', how: 'copied' });
  });

  it('copies a folder\'s images; a folder of the same name with other images gets a numbered name', async () => {
    const { input, outside, put } = workspace();
    put(path.join(outside, 'masks.v2/0001.png'), 'a');
    put(path.join(outside, 'masks.v2/notes.txt'), 'not an image');
    put(path.join(input, 'masks.v2/0001.png'), 'different');
    expect(await stageIntoInput(path.join(outside, 'masks.v2'), input, 'folder')).toEqual({ name: 'masks.v2 (1)', how: 'copied' });
    expect(readdirSync(path.join(input, 'masks.v2 (1)'))).toEqual(['0001.png']);
    expect(readFileSync(path.join(input, 'masks.v2/0001.png'), 'utf8')).toBe('different');
    expect(await stageIntoInput(path.join(outside, 'masks.v2'), input, 'folder')).toEqual({ name: 'masks.v2 (1)', how: 'reused' });
  });
});
