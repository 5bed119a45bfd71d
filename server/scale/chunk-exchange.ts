// The coordinator's side of the chunk traffic, over HTTP behind the server's access guard (so every
// request needs the token): workers fetch a chunk's spec and the input files it names, and post the
// chunk's results back. Redis only ever carries the tickets that point here.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import express, { type Request, type Response } from 'express';

export const CHUNK_ROUTE = '/limelight/chunks';
export const FILE_ROUTE = '/limelight/files';
/** The largest chunk result a worker may post (a chunk's decoded frames or latents). */
const RESULT_LIMIT = '1gb';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface OpenPrompt {
  specs: Uint8Array[];
  deliver(index: number, result: Uint8Array, worker: string): void;
}

export class ChunkExchange {
  private readonly prompts = new Map<string, OpenPrompt>();
  private readonly files = new Map<string, string>();

  /** Serves the prompt's chunk specs until `close`; `deliver` gets each posted result. Returns the specs' hashes. */
  open(prompt: string, specs: Uint8Array[], deliver: OpenPrompt['deliver']): string[] {
    this.prompts.set(prompt, { specs, deliver });
    return specs.map(sha256);
  }

  close(prompt: string): void {
    this.prompts.delete(prompt);
  }

  /** Lets workers fetch an input file by its content hash (which the chunk's spec names). */
  shareFile(hash: string, path: string): void {
    this.files.set(hash, path);
  }

  router(): express.Router {
    const router = express.Router();
    router.get(`${CHUNK_ROUTE}/:prompt/:index`, (req, res) => {
      const found = this.chunk(req, res);
      if (found) res.type('application/octet-stream').send(Buffer.from(found.spec));
    });
    router.post(`${CHUNK_ROUTE}/:prompt/:index`, express.raw({ type: 'application/octet-stream', limit: RESULT_LIMIT }), (req, res) => {
      const found = this.chunk(req, res);
      if (!found) return;
      if (!Buffer.isBuffer(req.body)) {
        res.status(415).json({ error: { type: 'bad_result', message: 'post the chunk result as application/octet-stream' } });
        return;
      }
      found.prompt.deliver(found.index, new Uint8Array(req.body), String(req.headers['x-limelight-worker'] ?? 'a worker'));
      res.status(204).end();
    });
    router.get(`${FILE_ROUTE}/:hash`, (req, res) => {
      const path = this.files.get(req.params.hash!);
      if (!path) {
        res.status(404).json({ error: { type: 'unknown_file', message: 'no input file with that content hash is shared by a running prompt' } });
        return;
      }
      res.type('application/octet-stream');
      createReadStream(path).on('error', () => res.destroy()).pipe(res);
    });
    return router;
  }

  /** The open prompt and chunk a request names, or an answer saying it is gone (interrupted or finished). */
  private chunk(req: Request, res: Response): { prompt: OpenPrompt; index: number; spec: Uint8Array } | null {
    const prompt = this.prompts.get(req.params.prompt!);
    const index = Number(req.params.index);
    const spec = prompt?.specs[index];
    if (!prompt || !spec) {
      res.status(410).json({ error: { type: 'chunk_gone', message: `chunk ${req.params.index} of prompt ${req.params.prompt} is not running (interrupted, deleted or finished)` } });
      return null;
    }
    return { prompt, index, spec };
  }
}
