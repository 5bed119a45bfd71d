// Running ffmpeg/ffprobe as child processes: the process is always reaped, the tail of its stderr is kept
// for the error message, and a process that stops making progress (or is interrupted) is killed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { toolPath, type Tool } from './binaries.ts';
import { LimelightError } from '../errors.ts';

/** Kill a process that neither reads input nor writes output for this long. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const STDERR_TAIL_BYTES = 16 * 1024;

export interface ToolOptions {
  /** The user's file the command works on, named in error messages. */
  file?: string;
  signal?: AbortSignal;
  /** 0 = never (a process that waits for its caller between chunks of a streamed clip). */
  idleTimeoutMs?: number;
}

export class MediaToolError extends LimelightError {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface ToolProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The last lines of stderr so far (with `-v error`: the problems ffmpeg reported), or undefined. */
  problems(): string | undefined;
  /** Resets the idle timer; call whenever the process made progress. */
  touch(): void;
  /** Resolves when the process exited cleanly; rejects with ffmpeg's reason otherwise. */
  readonly done: Promise<void>;
  /** Kills the process (if still running) and waits until it is reaped. */
  stop(): Promise<void>;
}

export function startTool(tool: Tool, args: readonly string[], options: ToolOptions = {}): ToolProcess {
  const child = spawn(toolPath(tool), ['-hide_banner', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failure: string | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
  });
  // A process that exits early closes its stdin under us (EPIPE): the exit status tells the story.
  child.stdin.on('error', () => {});
  const kill = (why: string) => {
    failure ??= why;
    child.kill('SIGKILL');
  };

  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const idleTimer = idleMs > 0 ? setTimeout(() => kill(`${tool} made no progress for ${idleMs / 1000} s`), idleMs) : undefined;
  const touch = () => void idleTimer?.refresh();
  child.stdout.on('data', touch);
  const onAbort = () => kill('interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    clearTimeout(idleTimer);
    options.signal?.removeEventListener('abort', onAbort);
  });

  const done = exited.then(({ code, signal, spawnError }) => {
    if (code === 0 && !failure) return;
    const subject = options.file ? ` on ${options.file}` : '';
    const reason = spawnError?.message ?? failure ?? lastLines(stderr) ?? `exit ${code ?? signal}`;
    throw new MediaToolError(`${tool} failed${subject}: ${reason}`, stderr);
  });
  done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection

  return {
    child,
    problems: () => lastLines(stderr),
    touch,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) kill('stopped');
      await exited;
    },
  };
}

/** Runs a command to completion and returns its stdout. */
export async function runTool(tool: Tool, args: readonly string[], options: ToolOptions = {}): Promise<string> {
  const proc = startTool(tool, args, options);
  proc.child.stdin.end();
  const chunks: Buffer[] = [];
  proc.child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  await proc.done;
  return Buffer.concat(chunks).toString('utf8');
}

function lastLines(stderr: string): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.length > 0 ? lines.slice(-3).join(' / ') : undefined;
}
