// A real ExecuteContext for calling a node's execute directly in tests, with temp folders.
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecuteContext } from '../../server/engine/node-contract.ts';
import type { Folders } from '../../server/config.ts';
import type { ProgressDetail } from '../../common/events.ts';

export interface TestContext extends ExecuteContext {
  progressCalls: { value: number; max: number; detail?: ProgressDetail }[];
  previews: { format: 'png' | 'jpeg'; bytes: Uint8Array }[];
  warnings: string[];
  abort(): void;
}

export function makeFolders(root = mkdtempSync(path.join(tmpdir(), 'limelight-test-'))): Folders {
  const folders = {
    input: path.join(root, 'input'),
    output: path.join(root, 'output'),
    temp: path.join(root, 'temp'),
    models: path.join(root, 'models'),
  };
  for (const dir of Object.values(folders)) mkdirSync(dir, { recursive: true });
  return folders;
}

export function makeContext(overrides: Partial<ExecuteContext> = {}): TestContext {
  const controller = new AbortController();
  const progressCalls: TestContext['progressCalls'] = [];
  const warnings: string[] = [];
  const previews: TestContext['previews'] = [];
  return {
    nodeId: '1',
    promptId: 'test-prompt',
    folders: makeFolders(),
    signal: controller.signal,
    log: { info: () => {}, warn: (message) => warnings.push(message) },
    progress(value, max, detail) {
      progressCalls.push({ value, max, detail });
      controller.signal.throwIfAborted();
    },
    preview: (format, bytes) => previews.push({ format, bytes }),
    extraData: {},
    progressCalls,
    previews,
    warnings,
    abort: () => controller.abort(),
    ...overrides,
  };
}
