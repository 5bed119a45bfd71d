// POST /upload/image: a multipart body with the file in `image` and optional `type`, `subfolder`,
// `overwrite` fields (in any order: ComfyUI's editor sends the file first). The file is streamed to
// a partial file while hashing, then linked into place in one step, so a reader never sees half a
// file. Same name and same content: the existing file is reused; same name, other content:
// `name (1).ext`, as ComfyUI does.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { HttpError } from './http-error.ts';
import { checkFilename, checkSubfolder, folderType, resolveFile, type FileFolderType } from './safe-paths.ts';
import type { Folders } from '../config.ts';

export interface UploadResult {
  name: string;
  subfolder: string;
  type: FileFolderType;
}

interface ReceivedFile {
  filename: string;
  size: number;
  sha256: string;
}

/** Room for the form fields around the file when judging a request by its Content-Length. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'file_too_large', `the file is larger than the upload limit of ${megabytes(limitBytes)}; start the server with a larger --upload-limit-mb to accept it`);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads the multipart body, writing the `image` file to `partial`. */
function receiveMultipart(req: IncomingMessage, partial: string, limitBytes: number): Promise<{ file: ReceivedFile; fields: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: limitBytes, files: 1, fields: 16, parts: 17, fieldSize: 64 * 1024 } });
    } catch (error) {
      req.resume();
      reject(new HttpError(400, 'invalid_upload', `send multipart/form-data with the file in the field "image" (${(error as Error).message})`));
      return;
    }
    const fields: Record<string, string> = {};
    let problem: HttpError | null = null;
    let fileStream: Readable | null = null;
    let saved: Promise<ReceivedFile> | null = null;

    parser.on('file', (name, stream, info) => {
      if (name !== 'image' || saved || problem) {
        stream.resume();
        return;
      }
      let filename: string;
      try {
        filename = checkFilename(info.filename);
      } catch (error) {
        problem = error as HttpError;
        stream.resume();
        return;
      }
      fileStream = stream;
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => (problem ??= tooLarge(limitBytes)));
      const writing = pipeline(stream, createWriteStream(partial, { flags: 'wx' })).then(() => ({ filename, size, sha256: hash.digest('hex') }));
      writing.catch(() => {});
      saved = writing;
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    for (const limit of ['filesLimit', 'fieldsLimit', 'partsLimit'] as const) {
      parser.on(limit, () => (problem ??= new HttpError(400, 'invalid_upload', 'the form has too many parts: send one file in "image" and the fields type, subfolder, overwrite')));
    }
    parser.on('error', (error: Error) => {
      req.unpipe(parser);
      req.resume();
      (fileStream as Readable | null)?.destroy();
      reject(new HttpError(400, 'invalid_upload', `the multipart body could not be read: ${error.message}`));
    });
    parser.on('close', () => {
      const written: Promise<ReceivedFile | null> = saved ?? Promise.resolve(null);
      written.then(
        (file) => {
          if (problem) reject(problem);
          else if (!file) reject(new HttpError(400, 'invalid_upload', 'no file in the field "image"; send the file as multipart/form-data field "image"'));
          else resolve({ file, fields });
        },
        (error: Error) => reject(problem ?? new HttpError(400, 'invalid_upload', `the file could not be received: ${error.message}`)),
      );
    });
    req.on('error', (error) => reject(new HttpError(400, 'invalid_upload', `the upload was cut off: ${error.message}`)));
    req.pipe(parser);
  });
}

/** `name.ext`, then `name (1).ext`, `name (2).ext`, … */
function candidateName(filename: string, attempt: number): string {
  if (attempt === 0) return filename;
  const ext = path.extname(filename);
  return `${filename.slice(0, filename.length - ext.length)} (${attempt})${ext}`;
}

async function sameContent(file: string, received: ReceivedFile): Promise<boolean> {
  const info = await stat(file);
  return info.isFile() && info.size === received.size && (await sha256File(file)) === received.sha256;
}

/** Links the partial file to the first free name (or one holding the same bytes); returns the name used. */
async function placeWithoutOverwrite(source: string, folders: Folders, type: FileFolderType, subfolder: string, received: ReceivedFile): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const candidate = candidateName(received.filename, attempt);
    const target = resolveFile(folders, type, subfolder, candidate);
    try {
      await link(source, target.path);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await sameContent(target.path, received)) return candidate;
    }
  }
}

export async function receiveUpload(req: IncomingMessage, folders: Folders, limitBytes: number): Promise<UploadResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes + FORM_OVERHEAD_BYTES) {
    req.resume();
    throw tooLarge(limitBytes);
  }
  const partialDir = path.join(folders.temp, '.uploads');
  await mkdir(partialDir, { recursive: true });
  const partial = path.join(partialDir, `${randomUUID()}.part`);
  let nearTarget: string | null = null;
  try {
    const { file, fields } = await receiveMultipart(req, partial, limitBytes);
    const type = folderType(fields.type, 'input');
    const subfolder = checkSubfolder(fields.subfolder);
    const overwrite = fields.overwrite === 'true' || fields.overwrite === '1';
    const first = resolveFile(folders, type, subfolder, file.filename);
    const targetDir = path.dirname(first.path);
    await mkdir(targetDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST' && error.code !== 'ENOTDIR') throw error;
      throw new HttpError(409, 'subfolder_is_file', `subfolder "${subfolder}" runs into a file of the ${type} folder; choose another subfolder`);
    });
    let source = partial;
    if ((await stat(partialDir)).dev !== (await stat(targetDir)).dev) {
      // link/rename work within one file system: copy next to the target first.
      nearTarget = path.join(targetDir, `.${randomUUID()}.part`);
      await copyFile(partial, nearTarget);
      source = nearTarget;
    }
    if (overwrite) {
      if ((await stat(first.path).catch(() => null))?.isDirectory()) {
        throw new HttpError(409, 'name_is_folder', `"${path.posix.join(subfolder, file.filename)}" is a folder in the ${type} folder and cannot be replaced by a file; upload under another name`);
      }
      await rename(source, first.path);
      return { name: file.filename, subfolder, type };
    }
    return { name: await placeWithoutOverwrite(source, folders, type, subfolder, file), subfolder, type };
  } finally {
    await rm(partial, { force: true });
    if (nearTarget) await rm(nearTarget, { force: true });
  }
}
