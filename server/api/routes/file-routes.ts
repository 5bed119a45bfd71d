// POST /upload/image (images and videos) and GET /view.
import { stat } from 'node:fs/promises';
import express, { type Router } from 'express';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { checkFilename, checkSubfolder, folderType, resolveFile } from '../safe-paths.ts';
import { receiveUpload } from '../upload.ts';
import { asyncRoute } from './handler.ts';

/** Types a browser would run as a page or script on this origin: served as downloads instead. */
const ACTIVE_CONTENT = new Set(['text/html', 'application/xhtml+xml', 'image/svg+xml', 'application/javascript', 'text/javascript', 'text/css', 'application/xml', 'text/xml']);

export function fileRoutes(router: Router, ctx: ApiContext): void {
  router.post(
    '/upload/image',
    asyncRoute(async (req, res) => {
      res.json(await receiveUpload(req, ctx.folders, ctx.uploadLimitBytes));
    }),
  );

  router.get(
    '/view',
    asyncRoute(async (req, res) => {
      const type = folderType(req.query.type, 'output');
      const filename = checkFilename(req.query.filename);
      const subfolder = checkSubfolder(req.query.subfolder);
      const file = await resolveFile(ctx.folders, type, subfolder, filename);
      const info = await stat(file.path).catch(() => null);
      if (!info?.isFile()) throw new HttpError(404, 'not_found', `no file "${[subfolder, filename].filter(Boolean).join('/')}" in the ${type} folder`);
      const contentType = express.static.mime.lookup(file.path);
      const active = ACTIVE_CONTENT.has(contentType);
      if (active) res.type('application/octet-stream');
      res.setHeader('Content-Disposition', `${active ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(filename)}`);
      await new Promise<void>((resolve, reject) => {
        res.sendFile(file.path, { dotfiles: 'allow' }, (error) => (error && !res.headersSent ? reject(error) : resolve()));
      });
    }),
  );
}
