// The editor at `/`: the built client from client/dist, or a page saying how to build it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import type { ApiContext } from '../context.ts';

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Limelight</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#ddd;background:#202020}code{background:#333;padding:.1em .3em}</style>
</head><body>
<h1>Limelight server is running</h1>
<p>The editor has not been built, so there is nothing to show here yet: build the client in <code>client/</code>
(Vite writes it to <code>client/dist</code>) and reload this page.</p>
<p>The ComfyUI-compatible API is available meanwhile: <a href="/object_info">/object_info</a>, <a href="/queue">/queue</a>,
<a href="/history">/history</a>, <a href="/system_stats">/system_stats</a>, WebSocket <code>/ws?clientId=…</code>.</p>
</body></html>`;

export function clientRoutes(router: Router, ctx: ApiContext): void {
  router.use(express.static(ctx.clientDist, { index: 'index.html' }));
  router.get('/', (_req, res) => {
    // Checked per request: the client may be built while the server runs.
    if (existsSync(path.join(ctx.clientDist, 'index.html'))) res.sendFile(path.join(ctx.clientDist, 'index.html'));
    else res.type('html').send(PLACEHOLDER);
  });
}
