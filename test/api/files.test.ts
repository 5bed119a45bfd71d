// Uploads (dedupe, rename, overwrite, subfolders, size cap) and /view (content types, ranges, escapes).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, rawRequest, startTestServer, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;
const SECRET = 'top secret outside the folders';
let outside: string;

beforeAll(async () => {
  server = await startTestServer({ uploadLimitBytes: 1024 * 1024 });
  outside = mkdtempSync(path.join(tmpdir(), 'limelight-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), SECRET);
  const { output, input } = server.settings.folders;
  writeFileSync(path.join(output, 'clip.mp4'), Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)));
  writeFileSync(path.join(output, 'page.html'), '<script>alert(1)</script>');
  writeFileSync(path.join(output, '..dots.txt'), 'a name that starts with two dots');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(output, 'link-out.txt'));
  symlinkSync(outside, path.join(output, 'dir-out'));
  symlinkSync(outside, path.join(input, 'dir-out'));
});

afterAll(async () => {
  await server.close();
});

function form(parts: { name: string; value: string | Blob; filename?: string }[]): FormData {
  const body = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string') body.append(part.name, part.value);
    else body.append(part.name, part.value, part.filename);
  }
  return body;
}

async function upload(parts: { name: string; value: string | Blob; filename?: string }[]) {
  const res = await fetchJson(`${server.url}/upload/image`, { method: 'POST', body: form(parts) });
  const body = (await res.json()) as { name: string; subfolder: string; type: string; error: { type: string; details: string } };
  return { status: res.status, body };
}

const png = (text: string) => new Blob([Buffer.from(`\x89PNG fake ${text}`, 'latin1')], { type: 'image/png' });

describe('upload', () => {
  it('stores a file in input and answers {name, subfolder, type}', async () => {
    const res = await upload([{ name: 'image', value: png('one'), filename: 'mask.png' }]);
    expect(res).toEqual({ status: 200, body: { name: 'mask.png', subfolder: '', type: 'input' } });
    expect(readFileSync(path.join(server.settings.folders.input, 'mask.png'), 'latin1')).toBe('\x89PNG fake one');
  });

  it('reuses the name for the same content, renames for other content, replaces with overwrite', async () => {
    expect((await upload([{ name: 'image', value: png('one'), filename: 'mask.png' }])).body.name).toBe('mask.png');
    expect((await upload([{ name: 'image', value: png('two'), filename: 'mask.png' }])).body.name).toBe('mask (1).png');
    expect((await upload([{ name: 'image', value: png('two'), filename: 'mask.png' }])).body.name).toBe('mask (1).png');
    expect((await upload([{ name: 'image', value: png('three'), filename: 'mask.png' }])).body.name).toBe('mask (2).png');
    const replaced = await upload([
      { name: 'image', value: png('four'), filename: 'mask.png' },
      { name: 'overwrite', value: 'true' },
    ]);
    expect(replaced.body.name).toBe('mask.png');
    expect(readFileSync(path.join(server.settings.folders.input, 'mask.png'), 'latin1')).toBe('\x89PNG fake four');
  });

  it('takes type and subfolder fields sent after the file, and videos too', async () => {
    const video = new Blob([Buffer.alloc(4096, 7)], { type: 'video/mp4' });
    const res = await upload([
      { name: 'image', value: video, filename: 'take.mp4' },
      { name: 'subfolder', value: 'clips/day1' },
      { name: 'type', value: 'temp' },
    ]);
    expect(res.body).toEqual({ name: 'take.mp4', subfolder: 'clips/day1', type: 'temp' });
    expect(readFileSync(path.join(server.settings.folders.temp, 'clips', 'day1', 'take.mp4')).length).toBe(4096);
  });

  it('refuses path escapes in the file name and subfolder, and unknown folder types', async () => {
    for (const filename of ['../escape.png', '..\\escape.png', '/etc/escape.png', 'a/b.png', '..']) {
      const res = await upload([{ name: 'image', value: png('x'), filename }]);
      expect(res.status, filename).toBe(400);
      expect(res.body.error.type).toBe('invalid_filename');
    }
    for (const subfolder of ['../..', '/tmp', 'a/../../b', 'C:\\Windows', '..%2f..']) {
      const res = await upload([{ name: 'image', value: png('x'), filename: 'ok.png' }, { name: 'subfolder', value: subfolder }]);
      if (subfolder === '..%2f..') {
        // Sent literally (a form field is not URL-decoded): a folder with that odd name, inside input.
        expect(res.status).toBe(200);
        continue;
      }
      expect(res.status, subfolder).toBe(400);
      expect(res.body.error.type).toBe('invalid_subfolder');
    }
    const symlinked = await upload([{ name: 'image', value: png('x'), filename: 'planted.png' }, { name: 'subfolder', value: 'dir-out' }]);
    expect(symlinked.status).toBe(403);
    expect((await upload([{ name: 'image', value: png('x'), filename: 'ok.png' }, { name: 'type', value: 'models' }])).status).toBe(400);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readdirSync(path.dirname(server.settings.folders.input)).sort()).toEqual(['.cache', 'input', 'models', 'output', 'temp']);
  });

  it('refuses a file over the cap with 413, leaving nothing behind', async () => {
    const big = new Blob([Buffer.alloc(1024 * 1024 + 10, 1)]);
    const res = await upload([{ name: 'image', value: big, filename: 'big.mp4' }]);
    expect(res.status).toBe(413);
    expect(res.body.error.details).toMatch(/--upload-limit-mb/);
    const huge = await upload([{ name: 'image', value: new Blob([Buffer.alloc(3 * 1024 * 1024, 1)]), filename: 'huge.mp4' }]);
    expect(huge.status).toBe(413);
    expect(readdirSync(server.settings.folders.input)).not.toContain('big.mp4');
    expect(readdirSync(path.join(server.settings.folders.temp, '.uploads'))).toEqual([]);
  });

  it('refuses bodies that are not a proper multipart form', async () => {
    const notMultipart = await fetchJson(`${server.url}/upload/image`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(notMultipart.status).toBe(400);
    const noFile = await upload([{ name: 'subfolder', value: 'x' }]);
    expect(noFile.status).toBe(400);
    expect(noFile.body.error.details).toMatch(/"image"/);
    const truncated = await rawRequest(server.url, {
      method: 'POST',
      path: '/upload/image',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="cut.png"\r\n\r\npartial data with no closing boundary',
    });
    expect(truncated.status).toBe(400);
    const noBoundary = await rawRequest(server.url, { method: 'POST', path: '/upload/image', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    expect(noBoundary.status).toBe(400);
    expect(readdirSync(server.settings.folders.input)).not.toContain('cut.png');
    expect((await fetchJson(`${server.url}/queue`)).status).toBe(200);
  });
});

describe('/view', () => {
  const view = (query: string, headers?: Record<string, string>) => rawRequest(server.url, { path: `/view?${query}`, headers });

  it('serves outputs with their content type and answers range requests', async () => {
    const whole = await view('filename=clip.mp4&type=output');
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const part = await fetchJson(`${server.url}/view?filename=clip.mp4`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
    const bytes = new Uint8Array(await part.arrayBuffer());
    expect([...bytes]).toEqual(Array.from({ length: 100 }, (_, i) => (100 + i) % 256));
  });

  it('serves files a browser would run as downloads', async () => {
    const page = await view('filename=page.html');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^application\/octet-stream/);
    expect(page.headers['content-disposition']).toMatch(/^attachment/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses traversal, plain, encoded and double-encoded, and links leading out', async () => {
    const attempts: [string, number][] = [
      ['filename=../../secret.txt', 400],
      ['filename=..%2F..%2Fsecret.txt', 400],
      ['filename=%2e%2e%2f%2e%2e%2fsecret.txt', 400],
      ['filename=..%252F..%252Fsecret.txt', 404],
      ['filename=%252e%252e%252fsecret.txt', 404],
      ['filename=secret.txt&subfolder=../..', 400],
      ['filename=secret.txt&subfolder=..%2F..', 400],
      [`filename=secret.txt&subfolder=${encodeURIComponent(outside)}`, 400],
      [`filename=${encodeURIComponent(path.join(outside, 'secret.txt'))}`, 400],
      ['filename=clip.mp4%00.png', 400],
      ['filename=clip.mp4&type=models', 400],
      ['filename=link-out.txt', 403],
      ['filename=secret.txt&subfolder=dir-out', 403],
      ['filename=nothing.png', 404],
      ['filename=..dots.txt', 200],
      ['filename[]=a&filename[]=b', 400],
      ['', 400],
    ];
    for (const [query, status] of attempts) {
      const res = await view(query);
      expect(res.status, query).toBe(status);
      expect(res.body).not.toContain(SECRET);
    }
    expect((await fetchJson(`${server.url}/queue`)).status).toBe(200);
  });
});

describe('uploads and /view together', () => {
  it('an uploaded file can be viewed from the input folder', async () => {
    const view = (query: string) => rawRequest(server.url, { path: `/view?${query}` });
    mkdirSync(path.join(server.settings.folders.input, 'masks'), { recursive: true });
    const res = await upload([{ name: 'image', value: png('m'), filename: 'm.png' }, { name: 'subfolder', value: 'masks' }]);
    const shown = await view(`filename=${res.body.name}&subfolder=masks&type=input`);
    expect(shown.status).toBe(200);
    expect(shown.headers['content-type']).toBe('image/png');
  });
});
