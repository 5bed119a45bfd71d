// Express 4 does not catch a rejected promise from a handler: this passes it on to the error handler.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import { HttpError } from '../http-error.ts';
import { MAX_JSON_BYTES, nestingProblem } from '../json-limits.ts';

export function asyncRoute(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/**
 * JSON bodies whatever their Content-Type: ComfyUI reads the body as JSON regardless, and scripts
 * written for it (urllib without a header) send `application/x-www-form-urlencoded`. Bodies over
 * MAX_JSON_BYTES answer 413, bodies nested deeper than MAX_JSON_DEPTH 400.
 */
const parseJson = express.json({ type: () => true, limit: MAX_JSON_BYTES, strict: false });

export const jsonBody: RequestHandler = (req, res, next) => {
  parseJson(req, res, (error?: unknown) => {
    if (error) next(error);
    else {
      const problem = nestingProblem(req.body);
      next(problem ? new HttpError(400, 'too_deeply_nested', problem) : undefined);
    }
  });
};
