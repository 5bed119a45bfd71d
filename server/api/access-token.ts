// The access token of a server reachable from other machines: one check, shared by every way in
// (HTTP, the WebSocket, and the scale-out workers that use the same token). Clients send it as
// `Authorization: Bearer TOKEN`, as `?token=TOKEN`, or (the editor) in an HttpOnly cookie the server
// sets when the editor is opened with `/?token=TOKEN`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Tokens go into URLs and cookies as they are, so only URL-safe characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Why a token given on the command line or in LIMELIGHT_TOKEN is unusable, or null. */
export function tokenProblem(token: string): string | null {
  if (TOKEN_PATTERN.test(token)) return null;
  return 'the access token must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ - (or "auto" to generate one)';
}

/** Compares in constant time (hashing first, so a length difference tells nothing either). */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The cookie keeping the editor's token. Browsers share cookies between ports of a host, so the name
 * carries the port: two servers on one machine keep their tokens apart.
 */
export function tokenCookieName(hostHeader: string | undefined): string {
  const port = /:(\d+)$/.exec(hostHeader ?? '')?.[1] ?? 'default';
  return `limelight_token_${port}`;
}

export function tokenCookie(req: IncomingMessage, token: string): string {
  return `${tokenCookieName(req.headers.host)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

/** The token a request carries: the Authorization header, then `?token=`, then the cookie. */
export function requestToken(req: IncomingMessage): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  if (query) return query;
  return cookieValue(req.headers.cookie, tokenCookieName(req.headers.host));
}
