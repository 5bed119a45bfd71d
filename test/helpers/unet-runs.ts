// Watches the UNet calls sampling makes: the feeds of every session.run on one model file, passed on to
// the real session.
import type { InferenceSession } from 'onnxruntime-node';
import { vi } from 'vitest';
import { sessions } from '../../server/runtime/sessions.ts';

export interface UNetRuns {
  /** The feeds of each call, in order. */
  readonly feeds: InferenceSession.FeedsType[];
  stop(): void;
}

export function watchUNetRuns(unetFile: string): UNetRuns {
  const feeds: InferenceSession.FeedsType[] = [];
  const acquire = sessions.acquire.bind(sessions);
  const spy = vi.spyOn(sessions, 'acquire').mockImplementation(async (file, device) => {
    const lease = await acquire(file, device);
    if (file !== unetFile) return lease;
    const { session } = lease;
    const watched = Object.create(session) as InferenceSession;
    watched.run = ((input: InferenceSession.FeedsType, ...rest: []) => {
      feeds.push({ ...input });
      return session.run(input, ...rest);
    }) as InferenceSession['run'];
    return { ...lease, session: watched };
  });
  return { feeds, stop: () => spy.mockRestore() };
}
