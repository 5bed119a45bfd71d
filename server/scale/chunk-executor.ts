// What a worker runs a chunk with, inside its inference thread: a module whose default export takes the
// chunk's spec (bytes from the coordinator) and returns the chunk's result bytes. The thread keeps the
// module, and so its loaded models, from one chunk to the next.
import { LimelightError } from '../errors.ts';

export interface ChunkExecutorContext {
  /** True once the coordinator asked to stop this chunk: check it before every model call. */
  interrupted(): boolean;
  /** A local path holding the input file with this SHA-256 content hash (fetched from the coordinator once). */
  inputFile(hash: string): Promise<string>;
}

export type ChunkExecutor = (spec: Uint8Array, context: ChunkExecutorContext) => Promise<Uint8Array>;

/** Thrown by an executor that stopped because `interrupted()` turned true. */
export class ChunkInterrupted extends LimelightError {
  constructor() {
    super('interrupted');
  }
}

/** Messages between a worker and its inference thread. */
export type ThreadRequest = { type: 'run'; id: number; spec: Uint8Array; flag: Int32Array };
export type ThreadReply =
  | { type: 'done'; id: number; result: Uint8Array }
  | { type: 'failed'; id: number; message: string; interrupted: boolean };

export interface ThreadConfig {
  executor: string;
  server: string;
  token: string;
  inputDir: string;
}
