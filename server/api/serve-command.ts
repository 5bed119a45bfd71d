// `limelight serve`: starts the server and runs until Ctrl+C (or SIGTERM), then stops cleanly.
import type { Settings } from '../config.ts';
import { generateToken, tokenProblem } from './access-token.ts';
import { accessPolicy } from './origin-guard.ts';
import { DEFAULT_HOST, DEFAULT_UPLOAD_LIMIT_BYTES, startServer } from './server.ts';
import { UsageError } from '../errors.ts';
import { redactedRedisUrl, redisOptions } from '../scale/redis-url.ts';

export interface ServeFlags {
  host?: string;
  port?: string;
  allowOrigin?: string[];
  allowHost?: string[];
  /** `--token VALUE`, `--token auto`, or LIMELIGHT_TOKEN. */
  token?: string;
  uploadLimitMb?: string;
  watchAll?: boolean;
  /** `--redis redis://HOST:PORT`: coordinate `limelight worker` processes. */
  redis?: string;
}

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

function parseHosts(values: string[] | undefined): string[] {
  return (values ?? []).map((name) => {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) {
      throw new UsageError(`--allow-host takes a host name like studio.local (no scheme, port or path), got "${name}"`);
    }
    return name.toLowerCase();
  });
}

function parseToken(value: string | undefined): { token?: string; generated: boolean } {
  if (value === undefined || value === '') return { generated: false };
  if (value === 'auto') return { token: generateToken(), generated: true };
  const problem = tokenProblem(value);
  if (problem) throw new UsageError(`--token / LIMELIGHT_TOKEN: ${problem}`);
  return { token: value, generated: false };
}

function parseRedis(url: string | undefined, token: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    redisOptions(url);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!token) throw new UsageError('--redis needs an access token (--token VALUE|auto or LIMELIGHT_TOKEN): workers fetch inputs and post results with it');
  return url;
}

/** Where to open the editor with the token: a wildcard bind is reached as localhost on this machine. */
function editorAddress(url: string, host: string, token: string): string {
  if (host !== '0.0.0.0' && host !== '::') return `${url}/?token=${token}`;
  const local = url.replace(host.includes(':') ? `[${host}]` : host, 'localhost');
  return `${local}/?token=${token} (from other machines, put this machine's name or address in place of localhost)`;
}

/** What `serve` starts with, read from the flags: checked before anything is prepared or opened. */
export interface ServeOptions {
  host?: string;
  port: number;
  allowOrigins: string[];
  allowHosts: string[];
  token?: string;
  /** The token was generated here (`--token auto`): print it once. */
  generatedToken: boolean;
  uploadLimitBytes: number;
  watchAll?: boolean;
  redis?: string;
}

/** Throws a UsageError (UnsafeBindError among them) for a command line that cannot serve. */
export function parseServeFlags(flags: ServeFlags): ServeOptions {
  const { token, generated } = parseToken(flags.token);
  const options = {
    host: flags.host,
    port: parsePort(flags.port),
    allowOrigins: parseOrigins(flags.allowOrigin),
    allowHosts: parseHosts(flags.allowHost),
    token,
    generatedToken: generated,
    uploadLimitBytes: parseUploadLimit(flags.uploadLimitMb),
    watchAll: flags.watchAll,
    redis: parseRedis(flags.redis, token),
  };
  accessPolicy(options.host ?? DEFAULT_HOST, options);
  return options;
}

export async function serve(options: ServeOptions, settings: Settings, out: (text: string) => void): Promise<void> {
  const { token } = options;
  const server = await startServer({
    ...options,
    settings,
    log: { info: (m) => out(m), warn: (m) => process.stderr.write(`warning: ${m}\n`) },
  });
  out(`Limelight is serving ${server.url} (input ${settings.folders.input}, output ${settings.folders.output}); Ctrl+C stops it.`);
  if (options.redis) out(`Coordinating workers through Redis at ${redactedRedisUrl(options.redis)} (they are listed in /system_stats).`);
  if (token && options.generatedToken) {
    out(`Open the editor at ${editorAddress(server.url, server.host, token)}; API clients send "Authorization: Bearer ${token}". The token is shown only this once.`);
  } else if (token) {
    out('Requests must carry the access token (the editor: open it once with /?token=TOKEN).');
  }
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
