// Browser test harness: builds the client once, starts the real server (`limelight serve`) on a free
// port with its own folders, and drives Debian's Chromium through playwright-core with a fresh profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'temp', 'e2e');
const CHROMIUM = '/usr/bin/chromium';
const SERVER_START_TIMEOUT_MS = 60_000;

export async function buildClient(): Promise<void> {
  await build({ root: path.join(REPO_ROOT, 'client'), configFile: path.join(REPO_ROOT, 'client', 'vite.config.ts'), logLevel: 'error' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  dataDir: string;
  /** Stops the server and starts it again on the same port and folders (clients must reconnect). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface ServerProcess {
  stop(): Promise<void>;
}

async function launch(port: number, dataDir: string): Promise<ServerProcess | { unavailable: string }> {
  const folders = ['input', 'output', 'temp', 'models'].flatMap((name) => [`--${name}`, path.join(dataDir, name)]);
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'limelight.js'), 'serve', '--port', String(port), ...folders, '--cache-dir', path.join(dataDir, 'cache')],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline && child.exitCode === null) {
    const ready = await fetch(`http://127.0.0.1:${port}/object_info`).then((r) => r.ok, () => false);
    if (ready) return { stop };
    await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
  }
  await stop();
  return { unavailable: `\`limelight serve\` did not start: ${output.trim().slice(-500) || 'no output'}` };
}

/** Starts `limelight serve` on a free port with its own folders, or says why it cannot start (yet). */
export async function startServer(): Promise<RunningServer | { unavailable: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'limelight-e2e-'));
  const first = await launch(port, dataDir);
  if ('unavailable' in first) {
    rmSync(dataDir, { recursive: true, force: true });
    return first;
  }
  let running = first;
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async restart() {
      await running.stop();
      const next = await launch(port, dataDir);
      if ('unavailable' in next) throw new Error(next.unavailable);
      running = next;
    },
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors, as text. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install it (apt install chromium; .ci/run does)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'limelight-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 860 },
    acceptDownloads: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
