// Refuses requests a web page on another site makes to this server (a malicious page must not
// queue prompts or read outputs on a user's local server), for HTTP and the WebSocket alike.
//   - An Origin header must match the Host the request was sent to, unless the origin is allowed.
//   - A server bound to loopback also refuses Host names that are not loopback (DNS rebinding).
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

export interface OriginPolicy {
  /** Origins allowed to call across sites (`http://localhost:5173`), or `*` for any. */
  allowOrigins: string[];
  /** The server listens on a loopback address only. */
  loopback: boolean;
}

export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}

export function isOriginAllowed(origin: string, policy: OriginPolicy): boolean {
  return policy.allowOrigins.includes('*') || policy.allowOrigins.includes(origin);
}

/** Why the request is refused, or null when it may proceed. */
export function originProblem(headers: IncomingHttpHeaders, policy: OriginPolicy): string | null {
  const host = headers.host ?? '';
  if (policy.loopback && !isLoopbackHost(hostnameOf(host))) {
    return `this server listens on loopback only and refuses requests addressed to "${host}"; use http://127.0.0.1 or http://localhost, or start it with --host to serve other addresses`;
  }
  const origin = headers.origin;
  if (origin === undefined || isOriginAllowed(origin, policy)) return null;
  let originHost: string | null = null;
  try {
    originHost = origin === 'null' ? null : new URL(origin).host;
  } catch {
    originHost = null;
  }
  if (originHost !== null && originHost.toLowerCase() === host.toLowerCase()) return null;
  return `cross-origin request from ${origin} refused; to allow a page on that origin to use this server, start it with --allow-origin ${origin}`;
}
