// The one place an Engine is built from the settings (the CLI and the server both use it): the folders
// made, the memory budget, and the disk tier under the cache dir.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger, Settings } from './config.ts';
import { Engine } from './engine/engine.ts';
import type { NodeRegistry } from './engine/node-registry.ts';

export function ensureFolders(settings: Settings): void {
  for (const dir of Object.values(settings.folders)) mkdirSync(dir, { recursive: true });
}

export function createEngine(settings: Settings, registry: NodeRegistry, log: Logger): Engine {
  ensureFolders(settings);
  return new Engine({
    registry,
    folders: settings.folders,
    memoryBudgetBytes: settings.memoryCacheBytes,
    disk: { dir: path.join(settings.cacheDir, 'nodes'), capBytes: settings.diskCacheBytes },
    log,
  });
}
