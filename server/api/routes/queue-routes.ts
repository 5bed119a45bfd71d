// POST/GET /prompt, GET/POST /queue and POST /interrupt.
import type { Router } from 'express';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { toTuple } from '../prompt-store.ts';
import { asyncRoute, jsonBody } from './handler.ts';

/** `{clear?: boolean, delete?: [id, …]}`, the body of POST /queue and POST /history. */
export function readClearOrDelete(body: unknown): { clear: boolean; ids: string[] } {
  const { clear, delete: ids } = (body ?? {}) as { clear?: unknown; delete?: unknown };
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) {
    throw new HttpError(400, 'invalid_request', '"delete" must be a list of prompt ids');
  }
  return { clear: clear === true, ids: (ids as string[] | undefined) ?? [] };
}

export function queueRoutes(router: Router, ctx: ApiContext): void {
  router.post(
    '/prompt',
    jsonBody,
    asyncRoute(async (req, res) => {
      const result = await ctx.submit(req.body);
      res.status(result.status).json(result.body);
    }),
  );

  router.get('/prompt', (_req, res) => {
    res.json(ctx.worker.status().status);
  });

  router.get('/queue', (_req, res) => {
    res.json({ queue_running: ctx.store.running().map(toTuple), queue_pending: ctx.store.pending().map(toTuple) });
  });

  router.post('/queue', jsonBody, (req, res) => {
    const { clear, ids } = readClearOrDelete(req.body);
    const deleted = (clear ? ctx.store.clearPending() : 0) + ctx.store.deletePending(ids);
    ctx.worker.broadcastStatus();
    res.json({ deleted });
  });

  router.post('/interrupt', jsonBody, (req, res) => {
    const promptId = (req.body as { prompt_id?: unknown } | null)?.prompt_id;
    if (promptId !== undefined && typeof promptId !== 'string') throw new HttpError(400, 'invalid_request', '"prompt_id" must be a string');
    res.json({ interrupted: ctx.worker.interrupt(promptId) });
  });
}
