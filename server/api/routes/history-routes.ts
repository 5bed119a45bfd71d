// GET /history[/{prompt_id}] and POST /history.
import type { Router } from 'express';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { jsonBody } from './handler.ts';
import { readClearOrDelete } from './queue-routes.ts';

function count(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new HttpError(400, 'invalid_request', `"${name}" must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return number;
}

export function historyRoutes(router: Router, ctx: ApiContext): void {
  router.get('/history', (req, res) => {
    res.json(ctx.store.history(count(req.query.max_items, 'max_items'), count(req.query.offset, 'offset')));
  });

  router.get('/history/:promptId', (req, res) => {
    const entry = ctx.store.historyEntry(req.params.promptId);
    res.json(entry ? { [req.params.promptId]: entry } : {});
  });

  router.post('/history', jsonBody, (req, res) => {
    const { clear, ids } = readClearOrDelete(req.body);
    const deleted = (clear ? ctx.store.clearHistory() : 0) + ctx.store.deleteHistory(ids);
    res.json({ deleted });
  });
}
