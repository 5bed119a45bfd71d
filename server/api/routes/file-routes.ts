// POST /upload/image (images and videos) and GET /view.
import { stat } from 'node:fs/promises';
import express, { type Router } from 'express';
import type { ApiContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { checkFilename, checkSubfolder, folderType, resolveFile } from '../safe-paths.ts';
import { receiveUpload } from '../upload.ts';
import { asyncRoute } from './handler.ts';

/**
 * Types shown in the browser; everything else is a download, so nothing a browser could run as a page
 * or a document on this origin (HTML, XML, PDF, SVG…) is ever shown inline. An allow-list: a type
 * nobody thought of is a download.
 */
function servedInline(contentType: string): boolean {
  if (contentType === 'image/svg+xml') return false;
  return /^(image|video|audio)\//.test(contentType) || contentType === 'text/plain' || contentType === 'application/json';
}

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
      const file = resolveFile(ctx.folders, type, subfolder, filename);
      const info = await stat(file.path).catch(() => null);
      if (!info?.isFile()) throw new HttpError(404, 'not_found', `no file "${[subfolder, filename].filter(Boolean).join('/')}" in the ${type} folder`);
      const contentType = express.static.mime.lookup(file.path);
      const inline = servedInline(contentType);
      if (!inline) res.type('application/octet-stream');
      res.setHeader('Content-Disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(filename)}`);
      await new Promise<void>((resolve, reject) => {
        res.sendFile(file.path, { dotfiles: 'allow' }, (error) => (error && !res.headersSent ? reject(error) : resolve()));
      });
    }),
  );
}
