// File identity for cache keys and sessions: content hashes, remembered by path, size and mtime, and for
// model folders in a dot-file so a new process does not hash the weights again.
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

type Identity = typeof import('../../server/file-identity.ts');
/** A fresh copy of the module: what a new process would see. */
async function freshModule(): Promise<Identity> {
  vi.resetModules();
  return import('../../server/file-identity.ts');
}

function modelFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-identity-'));
  mkdirSync(path.join(dir, 'unet'));
  writeFileSync(path.join(dir, 'unet', 'model.onnx'), 'weights');
  writeFileSync(path.join(dir, 'unet', 'config.json'), '{}');
  writeFileSync(path.join(dir, 'model_index.json'), '{"_class_name": "StableDiffusionPipeline"}');
  return dir;
}

describe('file identity', () => {
  it('is the content: equal for copies, different after an edit, "missing" for an absent file', async () => {
    const { fileFingerprint } = await freshModule();
    const dir = modelFolder();
    const copy = path.join(dir, 'copy.onnx');
    writeFileSync(copy, 'weights');
    const original = await fileFingerprint(path.join(dir, 'unet', 'model.onnx'));
    expect(await fileFingerprint(copy)).toBe(original);
    writeFileSync(copy, 'weights, retrained');
    expect(await fileFingerprint(copy)).not.toBe(original);
    expect(await fileFingerprint(path.join(dir, 'absent.onnx'))).toMatch(/^missing:/);
  });

  it('names and orders the files of a folder, and leaves dot-files out', async () => {
    const { folderFingerprint, folderIdentity } = await freshModule();
    const dir = modelFolder();
    const before = await folderFingerprint(dir);
    writeFileSync(path.join(dir, '.DS_Store'), 'noise');
    expect(await folderFingerprint(dir)).toBe(before);
    expect((await folderIdentity(dir)).bytes).toBe('weights'.length + '{}'.length + '{"_class_name": "StableDiffusionPipeline"}'.length);
    expect(await folderFingerprint(dir, ['unet/model.onnx', 'unet/config.json'])).not.toBe(await folderFingerprint(dir, ['unet/config.json', 'unet/model.onnx']));
  });

  it('a new process reads a model folder\'s remembered hashes instead of re-hashing, until a file changes', async () => {
    const dir = modelFolder();
    const first = await (await freshModule()).folderFingerprint(dir);
    const memoFile = path.join(dir, '.limelight-hashes.json');
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, { hash: string }>;
    expect(Object.keys(memo).sort()).toEqual(['model_index.json', 'unet/config.json', 'unet/model.onnx']);

    // Plant a different hash for the weights: a process that trusts the memo returns a different identity.
    memo['unet/model.onnx'].hash = 'f'.repeat(64);
    writeFileSync(memoFile, JSON.stringify(memo));
    expect(await (await freshModule()).folderFingerprint(dir)).not.toBe(first);

    // Touching the file (new mtime) makes the memo entry stale: the real content is hashed again.
    const weights = path.join(dir, 'unet', 'model.onnx');
    utimesSync(weights, new Date(), new Date(Date.now() + 5000));
    expect(await (await freshModule()).folderFingerprint(dir)).toBe(first);
  });

  it('writes the memo even when this process hashed the files already (e.g. the patched-UNet check)', async () => {
    const dir = modelFolder();
    const { fileFingerprint, folderFingerprint } = await freshModule();
    for (const name of ['unet/model.onnx', 'unet/config.json', 'model_index.json']) await fileFingerprint(path.join(dir, name));
    await folderFingerprint(dir);
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, '.limelight-hashes.json'), 'utf8'))).sort()).toEqual(['model_index.json', 'unet/config.json', 'unet/model.onnx']);
  });
});
