// Which ffmpeg and ffprobe to run: a setting (LIMELIGHT_FFMPEG / LIMELIGHT_FFPROBE), else a newer release
// on PATH, else the static binaries shipped in the @ffmpeg-installer / @ffprobe-installer npm packages.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Tool = 'ffmpeg' | 'ffprobe';

const SETTING: Record<Tool, string> = { ffmpeg: 'LIMELIGHT_FFMPEG', ffprobe: 'LIMELIGHT_FFPROBE' };
const INSTALLER: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };
/** The bundled ffmpeg is a 2018 build (≈ 4.1); a release on PATH from 5.0 on is preferred to it. */
const PREFERRED_PATH_MAJOR = 5;

const resolved = new Map<Tool, string>();

export function toolPath(tool: Tool): string {
  let found = resolved.get(tool);
  if (!found) {
    found = process.env[SETTING[tool]] || newerOnPath(tool) || bundledBinary(tool);
    resolved.set(tool, found);
  }
  return found;
}

function newerOnPath(tool: Tool): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, tool);
    if (!isExecutableFile(candidate)) continue;
    const version = spawnSync(candidate, ['-version'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
    const major = Number(/version n?(\d+)\./.exec(version)?.[1]);
    return major >= PREFERRED_PATH_MAJOR ? candidate : undefined;
  }
  return undefined;
}

function bundledBinary(tool: Tool): string {
  let binary: string;
  try {
    binary = (createRequire(import.meta.url)(INSTALLER[tool]) as { path: string }).path;
  } catch (error) {
    throw new Error(`${tool} is not available: ${String(error)}. Run npm install, or set ${SETTING[tool]} to an ${tool} binary.`);
  }
  return ensureExecutable(binary);
}

/** npm may install without running scripts or keeping the mode bits: make the binary executable, or use a copy that is. */
function ensureExecutable(binary: string): string {
  if (isExecutableFile(binary)) return binary;
  try {
    chmodSync(binary, 0o755);
    return binary;
  } catch {
    const dir = path.join(tmpdir(), 'limelight-bin');
    const copy = path.join(dir, `${path.basename(binary)}-${statSync(binary).size}`);
    if (!existsSync(copy)) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(binary, copy);
      chmodSync(copy, 0o755);
    }
    return copy;
  }
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
