// The express application: origin guard, ComfyUI's routes (also under /api), the client, and one
// error handler that turns every failure into a JSON answer instead of a crash.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiContext } from './context.ts';
import { errorBody, HttpError } from './http-error.ts';
import { isOriginAllowed, originProblem, type OriginPolicy } from './origin-guard.ts';
import { clientRoutes } from './routes/client-routes.ts';
import { fileRoutes } from './routes/file-routes.ts';
import { historyRoutes } from './routes/history-routes.ts';
import { infoRoutes } from './routes/info-routes.ts';
import { queueRoutes } from './routes/queue-routes.ts';
import type { Logger } from '../config.ts';

function guard(policy: OriginPolicy) {
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const problem = originProblem(req.headers, policy);
    if (problem) {
      res.status(403).json(errorBody('forbidden_origin', problem));
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && isOriginAllowed(origin, policy)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Range');
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/** Body-parser and URI errors carry `type`/`status`; anything else is a fault of ours, reported as 500. */
function errorHandler(log: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const err = error as Error & { type?: string; status?: number };
    if (error instanceof HttpError) {
      res.status(error.status).json(error.body());
    } else if (err.type === 'entity.parse.failed') {
      res.status(400).json(errorBody('invalid_json', `the body is not valid JSON (${err.message}); send a JSON object`));
    } else if (err.type === 'entity.too.large') {
      res.status(413).json(errorBody('body_too_large', 'the JSON body is larger than 64 MB'));
    } else if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json(errorBody('bad_request', err.message));
    } else {
      log.warn(`${req.method} ${req.path} failed: ${err.stack ?? err.message}`);
      res.status(500).json(errorBody('internal_error', `the server failed on this request (${err.message}); it keeps running`));
    }
  };
}

export function createApp(ctx: ApiContext, policy: OriginPolicy, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(guard(policy));
  const api = express.Router();
  queueRoutes(api, ctx);
  historyRoutes(api, ctx);
  infoRoutes(api, ctx);
  fileRoutes(api, ctx);
  app.use('/api', api);
  app.use(api);
  const client = express.Router();
  clientRoutes(client, ctx);
  app.use(client);
  app.use((req, res) => {
    res.status(404).json(errorBody('not_found', `no route ${req.method} ${req.path}; the API is ComfyUI's (/prompt, /queue, /history, /view, /ws, …)`));
  });
  app.use(errorHandler(log));
  return app;
}
