// Reading the workflow Limelight embeds in its outputs, from real files: a PNG written by sharp with
// text chunks added, and MP4 / WebM written by ffmpeg the way the Encode node writes them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readEmbeddedGraph } from '../../client/src/model/embedded-graph.ts';
import { toolPath } from '../../server/media/binaries.ts';

const workflow = { nodes: [{ id: 1, type: 'Float', widgets_values: { value: 0.85 } }], links: [], note: 'ünïcode ✓' };
const prompt = { '1': { class_type: 'Float', inputs: { value: 0.85 } } };
const dir = mkdtempSync(path.join(tmpdir(), 'limelight-embedded-'));

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG with text chunks inserted before IEND (the last 12 bytes). */
async function pngWith(chunks: Buffer[]): Promise<Uint8Array> {
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer();
  return new Uint8Array(Buffer.concat([png.subarray(0, png.length - 12), ...chunks, png.subarray(png.length - 12)]));
}

function video(ext: string, extraArgs: string[]): Uint8Array {
  const file = path.join(dir, `clip.${ext}`);
  execFileSync(toolPath('ffmpeg'), [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=32x32:d=0.1',
    '-metadata', `workflow=${JSON.stringify(workflow)}`, '-metadata', `prompt=${JSON.stringify(prompt)}`,
    ...extraArgs, file,
  ]);
  return new Uint8Array(readFileSync(file));
}

describe('workflows embedded in output files', () => {
  it('reads PNG tEXt (Latin-1, JSON-escaped) and iTXt (UTF-8) chunks', async () => {
    const asciiJson = JSON.stringify(workflow).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const png = await pngWith([
      chunk('tEXt', Buffer.from(`workflow\0${asciiJson}`, 'latin1')),
      chunk('iTXt', Buffer.concat([Buffer.from('prompt\0\0\0\0\0', 'latin1'), Buffer.from(JSON.stringify(prompt), 'utf8')])),
    ]);
    expect(readEmbeddedGraph(png)).toEqual({ workflow, prompt });
  });

  it('finds nothing in a PNG without text chunks', async () => {
    expect(readEmbeddedGraph(await pngWith([]))).toEqual({ workflow: undefined, prompt: undefined });
  });

  it('reads the mdta keys of an MP4 written with -movflags use_metadata_tags', () => {
    expect(readEmbeddedGraph(video('mp4', ['-movflags', 'use_metadata_tags', '-pix_fmt', 'yuv420p']))).toEqual({ workflow, prompt });
  });

  it('reads the SimpleTags of a WebM', () => {
    expect(readEmbeddedGraph(video('webm', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8']))).toEqual({ workflow, prompt });
  });

  it('reads JSON files: a workflow, a sidecar with both, an API prompt', () => {
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    expect(readEmbeddedGraph(json(workflow))).toEqual({ workflow });
    expect(readEmbeddedGraph(json({ workflow, prompt, stability: { score: 90 } }))).toEqual({ workflow, prompt });
    expect(readEmbeddedGraph(json(prompt))).toEqual({ prompt });
    expect(readEmbeddedGraph(new TextEncoder().encode('not json'))).toEqual({});
  });
});
