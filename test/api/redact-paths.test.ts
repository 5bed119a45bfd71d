// Server paths in messages sent to clients: folders by name, anything else by its last part.
import { describe, expect, it } from 'vitest';
import { pathRedactor, redactDeep } from '../../server/api/redact-paths.ts';

const redact = pathRedactor({ input: '/srv/ll/input', output: '/srv/ll/out', temp: '/srv/ll/tmp', models: '/models' });

describe('pathRedactor', () => {
  it('names files in the folders by the folder', () => {
    expect(redact('ffprobe failed on /srv/ll/input/clips/a.mp4: bad')).toBe('ffprobe failed on input/clips/a.mp4: bad');
    expect(redact("EISDIR: illegal operation on a directory, rename '/srv/ll/tmp/.uploads/x.part' -> '/srv/ll/input/taken.png'")).toBe(
      "EISDIR: illegal operation on a directory, rename 'temp/.uploads/x.part' -> 'input/taken.png'",
    );
  });

  it('shortens other absolute paths, quoted (with spaces), bare, in stack frames and on Windows', () => {
    expect(redact("ENOENT: no such file, open '/home/me/My Videos/a.mp4'")).toBe("ENOENT: no such file, open '…/a.mp4'");
    expect(redact('at run (/opt/limelight/server/engine/engine.ts:277:20)')).toBe('at run (…/engine.ts:277:20)');
    expect(redact('spawn /usr/lib/node_modules/ffmpeg/ffmpeg failed')).toBe('spawn …/ffmpeg failed');
    expect(redact('cannot open C:\\Users\\me\\clip.mp4 now')).toBe('cannot open …/clip.mp4 now');
  });

  it('leaves routes, ratios and plain words alone', () => {
    for (const text of ['no route GET /prompt', 'use a 16/9 clip', 'expects IMAGE/MASK', 'a/b/c relative']) expect(redact(text)).toBe(text);
  });

  it('redacts every string in a JSON value', () => {
    expect(redactDeep({ a: ['/srv/ll/out/x.txt', 3, null], b: { c: "'/etc/passwd'" } }, redact)).toEqual({ a: ['output/x.txt', 3, null], b: { c: "'…/passwd'" } });
  });
});
