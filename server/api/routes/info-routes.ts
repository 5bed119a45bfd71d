// GET /object_info[/{type}], GET /system_stats, POST /free and the example workflows.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Router } from 'express';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { checkFilename } from '../safe-paths.ts';
import { redactedRedisUrl } from '../../scale/redis-url.ts';
import { asyncRoute, jsonBody } from './handler.ts';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

const LIMELIGHT_VERSION = (require('../../../package.json') as { version: string }).version;

export function infoRoutes(router: Router, ctx: ApiContext): void {
  router.get('/object_info', (_req, res) => {
    res.json(ctx.registry.objectInfo(ctx.engine.env));
  });

  router.get('/object_info/:type', (req, res) => {
    const definition = ctx.registry.get(req.params.type);
    res.json(definition ? { [definition.type]: ctx.registry.objectInfoFor(definition, ctx.engine.env) } : {});
  });

  router.get(
    '/system_stats',
    asyncRoute(async (_req, res) => {
      const runner = await ctx.runtime.stats();
      const provider = runner.provider;
      res.json({
        system: {
          os: process.platform,
          ram_total: os.totalmem(),
          ram_free: os.freemem(),
          comfyui_version: `limelight-${LIMELIGHT_VERSION}`,
          limelight_version: LIMELIGHT_VERSION,
          node_version: process.version,
          python_version: '',
          pytorch_version: '',
          onnxruntime_version: packageVersion('onnxruntime-node'),
          embedded_python: false,
          argv: process.argv.map((arg) => redactedRedisUrl(ctx.redact(arg))),
        },
        devices: [
          {
            name: provider ?? 'no model loaded yet',
            type: provider === null || provider === 'cpu' ? 'cpu' : provider,
            index: 0,
            onnxruntime_provider: provider,
            vram_total: 0,
            vram_free: 0,
            torch_vram_total: 0,
            torch_vram_free: 0,
          },
        ],
        // Limelight additions (ComfyUI clients ignore them): the scale-out workers (none without --redis)
        // and what the engine runner holds between runs.
        workers: ctx.scale ? (await ctx.scale.workers()).map(({ name, device, models, busy, chunks_done }) => ({ name, device, models, busy, chunks_done })) : [],
        limelight: {
          ...(ctx.scale ? { redis: ctx.scale.health() } : {}),
          memory_cache: { entries: runner.memoryCache.entries, bytes: runner.memoryCache.bytes, budget_bytes: runner.memoryCache.budgetBytes },
          sessions: runner.sessions.map((s) => ({ file: s.file, provider: s.provider, bytes: s.bytes, in_use: s.inUse })),
        },
      });
    }),
  );

  router.post(
    '/free',
    jsonBody,
    asyncRoute(async (req, res) => {
      const { unload_models, free_memory } = (req.body ?? {}) as { unload_models?: unknown; free_memory?: unknown };
      await ctx.runtime.free({ memory: free_memory === true, models: unload_models === true });
      res.json({ freed_memory: free_memory === true, unloaded_models: unload_models === true });
    }),
  );

  router.get(
    '/workflows',
    asyncRoute(async (_req, res) => {
      const files = await readdir(ctx.workflowsDir).catch(() => [] as string[]);
      const workflows = files.filter((f) => f.endsWith('.json')).sort().map((file) => ({ name: file.replace(/\.json$/, ''), file }));
      res.json(workflows);
    }),
  );

  router.get(
    '/workflows/:file',
    asyncRoute(async (req, res) => {
      const file = checkFilename(req.params.file);
      if (!file.endsWith('.json')) throw new HttpError(400, 'invalid_filename', 'example workflows are .json files; see GET /workflows');
      const text = await readFile(path.join(ctx.workflowsDir, file), 'utf8').catch(() => {
        throw new HttpError(404, 'not_found', `no example workflow "${file}"; see GET /workflows for the list`);
      });
      res.type('application/json').send(text);
    }),
  );
}
