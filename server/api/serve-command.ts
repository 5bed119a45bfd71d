// `limelight serve`: starts the server and runs until Ctrl+C (or SIGTERM), then stops cleanly.
import type { Settings } from '../config.ts';
import { DEFAULT_UPLOAD_LIMIT_BYTES, startServer } from './server.ts';
import { UsageError } from '../errors.ts';

export interface ServeFlags {
  host?: string;
  port?: string;
  allowOrigin?: string[];
  uploadLimitMb?: string;
  watchAll?: boolean;
}

/** A flag that is not usable: the command line is wrong (exit code for usage). */

const MB = 1024 * 1024;

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8188;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${text}"`);
  return port;
}

function parseUploadLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_UPLOAD_LIMIT_BYTES;
  const mb = Number(text);
  if (!Number.isFinite(mb) || mb <= 0) throw new UsageError(`--upload-limit-mb must be a number of megabytes > 0, got "${text}"`);
  return Math.floor(mb * MB);
}

function parseOrigins(values: string[] | undefined): string[] {
  return (values ?? []).map((origin) => {
    if (origin === '*') return origin;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new UsageError(`--allow-origin takes an origin like http://localhost:5173 (or *), got "${origin}"`);
    }
    if (parsed.origin !== origin.replace(/\/$/, '')) throw new UsageError(`--allow-origin takes an origin without a path: ${parsed.origin}`);
    return parsed.origin;
  });
}

export async function serve(flags: ServeFlags, settings: Settings, out: (text: string) => void): Promise<void> {
  const server = await startServer({
    settings,
    host: flags.host,
    port: parsePort(flags.port),
    allowOrigins: parseOrigins(flags.allowOrigin),
    uploadLimitBytes: parseUploadLimit(flags.uploadLimitMb),
    watchAll: flags.watchAll,
    log: { info: (m) => out(m), warn: (m) => process.stderr.write(`warning: ${m}\n`) },
  });
  out(`Limelight is serving ${server.url} (input ${settings.folders.input}, output ${settings.folders.output}); Ctrl+C stops it.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const running = server.worker.runningPromptId;
  out(`stopping${running ? `: prompt ${running} is interrupted; queued prompts are kept for the next start` : ''} (again to quit at once)`);
  // A second signal quits without waiting; the prompt cut off is marked failed at the next start.
  const quit = () => process.exit(130);
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  await server.close();
  process.removeListener('SIGINT', quit);
  process.removeListener('SIGTERM', quit);
}
