// What `npm start` (and a headless run) needs before it can work on a fresh clone: the editor bundle,
// the demo model and the sample media. Each is built once and skipped while it is current.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSampleMedia } from './demo/sample-media.ts';
import { DEMO_MODELS } from './demo/demo-models.ts';
import type { Settings } from './config.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_DIR = path.join(REPO_ROOT, 'client');
/** The client bundles its own folder and the module it shares with the server. */
const CLIENT_SOURCES = [CLIENT_DIR, path.join(REPO_ROOT, 'common')];

function newestModification(target: string): number {
  if (!existsSync(target)) return 0;
  const info = statSync(target);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(target, { withFileTypes: true })
    .filter((entry) => entry.name !== 'dist' && entry.name !== 'node_modules')
    .reduce((newest, entry) => Math.max(newest, newestModification(path.join(target, entry.name))), info.mtimeMs);
}

/** The built editor is missing or older than its sources. */
export function clientNeedsBuild(): boolean {
  const built = path.join(CLIENT_DIR, 'dist', 'index.html');
  if (!existsSync(path.join(CLIENT_DIR, 'index.html'))) return false;
  if (!existsSync(built)) return true;
  const sources = Math.max(...CLIENT_SOURCES.map(newestModification));
  return sources > statSync(built).mtimeMs;
}

export async function buildClient(): Promise<void> {
  const { build } = await import('vite');
  await build({ root: CLIENT_DIR, configFile: path.join(CLIENT_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

async function step(out: (text: string) => void, label: string, work: () => unknown): Promise<void> {
  const started = Date.now();
  out(`${label}…`);
  await work();
  out(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Builds what is missing; prints a line per step only when there is work to do. */
export async function prepareFirstRun(settings: Settings, out: (text: string) => void, options: { client: boolean }): Promise<void> {
  if (options.client && clientNeedsBuild()) await step(out, 'building the editor (client/dist)', buildClient);
  const once = async (marker: string, label: string, work: () => unknown) => {
    // Present: the ensure call only checks its version. Missing: show the build as a step.
    if (existsSync(marker)) await work();
    else await step(out, label, work);
  };
  for (const [name, ensure] of Object.entries(DEMO_MODELS)) {
    const modelDir = path.join(settings.folders.models, name);
    await once(path.join(modelDir, 'model_index.json'), `generating the demo model ${name} (${modelDir})`, () => ensure(settings.folders.models));
  }
  await once(path.join(settings.folders.input, 'limelight-sample.mp4'), `generating the sample clip and masks (${settings.folders.input})`, () =>
    ensureSampleMedia(settings.folders.input),
  );
}
