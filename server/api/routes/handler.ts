// Express 4 does not catch a rejected promise from a handler: this passes it on to the error handler.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';

export function asyncRoute(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/**
 * JSON bodies whatever their Content-Type: ComfyUI reads the body as JSON regardless, and scripts
 * written for it (urllib without a header) send `application/x-www-form-urlencoded`.
 */
export const jsonBody = express.json({ type: () => true, limit: '64mb', strict: false });
