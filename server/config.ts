// Folders and budgets, from command-line flags, then environment variables, then defaults under the
// working directory.
import path from 'node:path';

/** Where a node reads and writes files. */
export interface Folders {
  input: string;
  output: string;
  temp: string;
  models: string;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export interface Settings {
  folders: Folders;
  cacheDir: string;
  memoryCacheBytes: number;
  diskCacheBytes: number;
}

export interface SettingFlags {
  input?: string;
  output?: string;
  temp?: string;
  models?: string;
  cacheDir?: string;
  memoryCacheMb?: number;
  diskCacheMb?: number;
}

const MB = 1024 * 1024;

function positiveNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of megabytes ≥ 0, got "${text}"`);
  return value;
}

export function resolveSettings(flags: SettingFlags = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const dir = (flag: string | undefined, variable: string, fallback: string) => path.resolve(cwd, flag ?? env[variable] ?? fallback);
  return {
    folders: {
      input: dir(flags.input, 'LIMELIGHT_INPUT', 'input'),
      output: dir(flags.output, 'LIMELIGHT_OUTPUT', 'output'),
      temp: dir(flags.temp, 'LIMELIGHT_TEMP', 'temp'),
      models: dir(flags.models, 'LIMELIGHT_MODELS', 'models'),
    },
    cacheDir: dir(flags.cacheDir, 'LIMELIGHT_CACHE', '.cache'),
    memoryCacheBytes: (flags.memoryCacheMb ?? positiveNumber(env.LIMELIGHT_MEMORY_CACHE_MB, 'LIMELIGHT_MEMORY_CACHE_MB') ?? 4096) * MB,
    diskCacheBytes: (flags.diskCacheMb ?? positiveNumber(env.LIMELIGHT_DISK_CACHE_MB, 'LIMELIGHT_DISK_CACHE_MB') ?? 10240) * MB,
  };
}
