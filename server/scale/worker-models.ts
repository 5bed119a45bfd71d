// The models a worker can run: each folder of its models/ folder, named by the content identity
// LoadModel's cache key uses (folderFingerprint), so the coordinator gives a chunk only to a worker
// whose copy of the model has the same files.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { folderFingerprint } from '../file-identity.ts';
import { modelIdentity } from './worker-registry.ts';

export async function modelIdentities(modelsDir: string): Promise<string[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  return Promise.all(folders.map(async (name) => modelIdentity(name, await folderFingerprint(path.join(modelsDir, name)))));
}
