// A worker's inference thread: runs chunks with the executor module, off the worker's event loop, so
// BullMQ keeps renewing the chunk's lock while a UNet call runs.
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkInterrupted, type ChunkExecutor, type ThreadConfig, type ThreadReply, type ThreadRequest } from './chunk-executor.ts';
import { FILE_ROUTE } from './chunk-exchange.ts';

const config = workerData as ThreadConfig;
const executor = ((await import(config.executor)) as { default: ChunkExecutor }).default;
const fetching = new Map<string, Promise<string>>();

function inputFile(hash: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return Promise.reject(new Error(`"${hash}" is not a content hash`));
  let found = fetching.get(hash);
  if (!found) {
    found = download(hash);
    fetching.set(hash, found);
    found.catch(() => fetching.delete(hash));
  }
  return found;
}

async function download(hash: string): Promise<string> {
  const path = join(config.inputDir, hash);
  if (await access(path).then(() => true, () => false)) return path;
  const response = await fetch(`${config.server}${FILE_ROUTE}/${hash}`, { headers: { authorization: `Bearer ${config.token}` } });
  if (!response.ok) throw new Error(`the coordinator refused input file ${hash.slice(0, 12)}: ${response.status} ${await response.text()}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (createHash('sha256').update(bytes).digest('hex') !== hash) throw new Error(`input file ${hash.slice(0, 12)} arrived with other content`);
  await mkdir(config.inputDir, { recursive: true });
  await writeFile(`${path}.part`, bytes);
  await rename(`${path}.part`, path);
  return path;
}

parentPort!.on('message', async (request: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    const result = await executor(request.spec, { interrupted: () => Atomics.load(request.flag, 0) !== 0, inputFile });
    reply = { type: 'done', id: request.id, result };
  } catch (error) {
    const interrupted = error instanceof ChunkInterrupted;
    reply = { type: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error), interrupted };
  }
  parentPort!.postMessage(reply);
});
