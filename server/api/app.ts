// The express application: the access guard (host, origin, token), ComfyUI's routes (also under /api),
// the client, and one error handler that turns every failure into a JSON answer instead of a crash.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiContext } from './context.ts';
import { errorBody, HttpError } from './http-error.ts';
import { tokenCookie } from './access-token.ts';
import { addressProblem, isOriginAllowed, tokenProblem, type AccessProblem, type OriginPolicy } from './origin-guard.ts';
import { MAX_JSON_BYTES } from './json-limits.ts';
import type { Redactor } from './redact-paths.ts';
import { clientRoutes } from './routes/client-routes.ts';
import { fileRoutes } from './routes/file-routes.ts';
import { historyRoutes } from './routes/history-routes.ts';
import { infoRoutes } from './routes/info-routes.ts';
import { queueRoutes } from './routes/queue-routes.ts';
import type { Logger } from '../config.ts';

const TOKEN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Limelight: access token needed</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em">
<h1>This Limelight server needs its access token</h1>
<p>Open the address the server printed when it started (it ends in <code>/?token=…</code>), or add
<code>?token=</code> and the token given with <code>--token</code> or <code>LIMELIGHT_TOKEN</code> to this address.</p>
</body></html>`;

function refuse(req: Request, res: Response, problem: AccessProblem): void {
  if (problem.type === 'token_required' && req.method === 'GET' && req.path === '/') res.status(401).type('html').send(TOKEN_PAGE);
  else res.status(problem.status).json(errorBody(problem.type, problem.message));
}

/** The editor opened with `/?token=…`: keeps the token in a cookie and takes it out of the address bar. */
function storeTokenAndRedirect(req: Request, res: Response, token: string): boolean {
  if (req.method !== 'GET' || req.path !== '/' || typeof req.query.token !== 'string') return false;
  const rest = new URL(req.originalUrl, 'http://localhost').searchParams;
  rest.delete('token');
  res.setHeader('Set-Cookie', tokenCookie(req, token));
  res.redirect(303, rest.size > 0 ? `/?${rest}` : '/');
  return true;
}

export function guard(policy: OriginPolicy) {
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const address = addressProblem(req, policy);
    if (address) {
      refuse(req, res, address);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && isOriginAllowed(origin, policy)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Range, Authorization');
      // A preflight carries no credentials: answered before the token check.
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    const token = tokenProblem(req, policy);
    if (token) {
      refuse(req, res, token);
      return;
    }
    if (policy.token !== null && storeTokenAndRedirect(req, res, policy.token)) return;
    next();
  };
}

/** Body-parser and URI errors carry `type`/`status`; anything else is a fault of ours, reported as 500. */
function errorHandler(log: Logger, redact: Redactor) {
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
      res.status(413).json(errorBody('body_too_large', `the JSON body is larger than ${MAX_JSON_BYTES / 1024 ** 2} MB`));
    } else if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json(errorBody('bad_request', redact(err.message)));
    } else {
      log.warn(`${req.method} ${req.path} failed: ${err.stack ?? err.message}`);
      res.status(500).json(errorBody('internal_error', `the server failed on this request (${redact(err.message)}); it keeps running`));
    }
  };
}

export function createApp(ctx: ApiContext, policy: OriginPolicy, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(guard(policy));
  if (ctx.scale) app.use(ctx.scale.exchange.router());
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
  app.use(errorHandler(log, ctx.redact));
  return app;
}
