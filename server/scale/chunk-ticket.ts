// What a chunk job in Redis holds: ids, a frame range and content hashes, nothing else. Anyone who can
// reach Redis can read it, so the chunk's subgraph and values stay on the coordinator (fetched over
// authenticated HTTP, checked against `spec`), and a worker refuses a ticket of any other shape.

export interface ChunkTicket {
  prompt: string;
  index: number;
  start: number;
  end: number;
  frames: number;
  /** SHA-256 of the chunk's spec as the coordinator serves it. */
  spec: string;
  /** Content identities of the models the chunk loads. */
  models: string[];
}

const ID = /^[A-Za-z0-9._:-]{1,200}$/;
const HASH = /^[0-9a-f]{64}$/;

export const CHUNK_QUEUE_PREFIX = 'limelight-chunks';

/** The queue of one worker class's chunks. */
export function chunkQueueName(classId: string): string {
  return `${CHUNK_QUEUE_PREFIX}-${classId}`;
}

export function ticketJobId(prompt: string, index: number): string {
  return `${prompt}.${index}`;
}

/** The ticket when `data` is one, or an error saying what is wrong with it. */
export function checkedTicket(data: unknown): ChunkTicket {
  const t = data as Partial<ChunkTicket> | null;
  const integer = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    !t || typeof t !== 'object' ||
    typeof t.prompt !== 'string' || !ID.test(t.prompt) ||
    !integer(t.index) || !integer(t.start) || !integer(t.end) || !integer(t.frames) || t.start >= t.end || t.end > t.frames ||
    typeof t.spec !== 'string' || !HASH.test(t.spec) ||
    !Array.isArray(t.models) || !t.models.every((m) => typeof m === 'string' && ID.test(m)) ||
    Object.keys(t).length !== 7
  ) {
    throw new Error('the chunk job in Redis is not a Limelight chunk ticket (ids, a frame range and hashes only); is another program using this queue?');
  }
  return t as ChunkTicket;
}
