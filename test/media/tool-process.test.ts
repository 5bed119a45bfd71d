import { describe, expect, it } from 'vitest';
import { MediaToolError, runTool, startTool } from '../../server/media/tool-process.ts';

describe('ffmpeg processes', () => {
  it('kills a process that makes no progress instead of hanging', async () => {
    // ffmpeg waits forever for frames on stdin that never come.
    const proc = startTool('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '8x8', '-i', 'pipe:0', '-f', 'null', '-'], {
      idleTimeoutMs: 300,
    });
    await expect(proc.done).rejects.toThrow(/made no progress for 0.3 s/);
    expect(proc.child.exitCode !== null || proc.child.signalCode !== null).toBe(true);
  });

  it('keeps the tail of stderr for the error message', async () => {
    const error = await runTool('ffmpeg', ['-v', 'error', '-i', '/nonexistent/clip.mp4', '-f', 'null', '-'], { file: '/nonexistent/clip.mp4' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaToolError);
    expect((error as MediaToolError).message).toMatch(/^ffmpeg failed on \/nonexistent\/clip\.mp4: .*No such file or directory/);
    expect((error as MediaToolError).stderr).toContain('No such file or directory');
  });

  it('stops a running process on request and waits until it is reaped', async () => {
    const proc = startTool('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25', '-f', 'rawvideo', 'pipe:1']);
    await new Promise((resolve) => proc.child.stdout.once('data', resolve));
    await proc.stop();
    expect(proc.child.signalCode).toBe('SIGKILL');
    await expect(proc.done).rejects.toThrow(/stopped/);
  });
});
