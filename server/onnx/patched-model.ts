// Writes the attention-patched UNet beside the original, where its external weight files resolve by
// the same relative names (nothing is copied), cached by the source's content hash and the surgery
// version. A read-only model folder gets the patched graph in the cache folder instead, with links to
// the weight files.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { fileFingerprint } from '../file-identity.ts';
import { readUNetConfig } from '../runtime/model-folder.ts';
import type { CrossAttentionLayer } from './cross-attention-find.ts';
import { patchCrossAttention, SURGERY_VERSION, type BiasInput } from './cross-attention-patch.ts';

export interface PatchedModel {
  path: string;
  layers: CrossAttentionLayer[];
  biasInputs: BiasInput[];
  /** The source UNet's content hash (16 hex digits) and the surgery version: what identifies the patched graph. */
  sourceHash: string;
  surgeryVersion: number;
}

type PatchedFile = Omit<PatchedModel, 'sourceHash' | 'surgeryVersion'>;

function externalLocations(model: ModelProto): string[] {
  const locations = new Set<string>();
  for (const tensor of model.graph?.initializer ?? []) {
    const location = tensor.externalData.find((e) => e.key === 'location')?.value;
    if (location) locations.add(location);
  }
  return [...locations];
}

async function readSidecar(file: string): Promise<PatchedFile | null> {
  try {
    const data = JSON.parse(await readFile(`${file}.json`, 'utf8')) as Omit<PatchedFile, 'path'>;
    await stat(file);
    return { path: file, layers: data.layers, biasInputs: data.biasInputs };
  } catch {
    return null;
  }
}

async function writeAtomically(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
}

function isPermissionError(error: unknown): boolean {
  return ['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * Earlier patched copies of the same UNet (another surgery version, or the source before it changed):
 * with inline weights each is as large as the UNet, so they are removed once the new one is written.
 */
async function removeStalePatches(dir: string, base: string, current: string): Promise<void> {
  const prefix = `.${base}.limelight-attention-v`;
  for (const file of await readdir(dir)) {
    if (file.startsWith(prefix) && !file.startsWith(current)) await rm(path.join(dir, file), { force: true });
  }
}

/** The patched model for `source` (a UNet .onnx), building it on first use. */
export async function ensurePatchedModel(source: string, fallbackDir: string): Promise<PatchedModel> {
  const hash = (await fileFingerprint(path.resolve(source))).slice(0, 16);
  return { ...(await patchedFile(source, hash, fallbackDir)), sourceHash: hash, surgeryVersion: SURGERY_VERSION };
}

async function patchedFile(source: string, hash: string, fallbackDir: string): Promise<PatchedFile> {
  // A dot-file, so folder fingerprints (which skip dot-files) do not change when it appears.
  const name = `.${path.basename(source, '.onnx')}.limelight-attention-v${SURGERY_VERSION}-${hash}.onnx`;
  const beside = path.join(path.dirname(source), name);
  const elsewhere = path.join(fallbackDir, hash, name);
  for (const candidate of [beside, elsewhere]) {
    const existing = await readSidecar(candidate);
    if (existing) return existing;
  }

  const model = fromBinary(ModelProtoSchema, await readFile(source));
  const { layers, biasInputs } = patchCrossAttention(model, readUNetConfig(path.dirname(source)).heads);
  const bytes = toBinary(ModelProtoSchema, model);
  const sidecar = JSON.stringify({ source: path.resolve(source), layers, biasInputs }, null, 1);
  try {
    await writeAtomically(beside, bytes);
    await writeAtomically(`${beside}.json`, sidecar);
    await removeStalePatches(path.dirname(source), path.basename(source, '.onnx'), name);
    return { path: beside, layers, biasInputs };
  } catch (error) {
    if (!isPermissionError(error)) throw error;
  }
  await mkdir(path.dirname(elsewhere), { recursive: true });
  for (const location of externalLocations(model)) {
    const link = path.join(path.dirname(elsewhere), location);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.resolve(path.dirname(source), location), link).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  await writeAtomically(elsewhere, bytes);
  await writeAtomically(`${elsewhere}.json`, sidecar);
  return { path: elsewhere, layers, biasInputs };
}
