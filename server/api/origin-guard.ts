// Who may use the server, for HTTP and the WebSocket alike:
//   - The Host a request is addressed to must be one this server answers to (DNS rebinding: a page
//     on attacker.example, re-pointed at this machine, sends `Host: attacker.example`). On loopback,
//     that is localhost and loopback addresses; elsewhere, the `--allow-host` names. Addresses typed
//     as numbers are not names, so they cannot be rebound.
//   - An Origin header must be this server's own origin (scheme, host and port), unless allowed.
//   - With an access token, every request must carry it (see access-token.ts).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net from 'node:net';
import { UsageError } from '../errors.ts';
import { requestToken, tokenMatches } from './access-token.ts';

export interface OriginPolicy {
  /** Origins allowed to call across sites (`http://localhost:5173`), or `*` for any. */
  allowOrigins: string[];
  /** The server listens on a loopback address only. */
  loopback: boolean;
  /** Host names (lower case) requests may be addressed to, besides loopback names and IP addresses. */
  allowHosts: string[];
  /** The access token every request must carry, or null for none. */
  token: string | null;
}

/** A listening address other machines can reach, with nothing to tell a DNS-rebinding page from a user. */
export class UnsafeBindError extends UsageError {}

/** The policy of a server listening on `host`; refuses a reachable server that nothing protects. */
export function accessPolicy(host: string, options: { allowOrigins?: string[]; allowHosts?: string[]; token?: string }): OriginPolicy {
  const policy: OriginPolicy = {
    allowOrigins: options.allowOrigins ?? [],
    loopback: isLoopbackHost(host),
    allowHosts: (options.allowHosts ?? []).map((name) => name.toLowerCase()),
    token: options.token ?? null,
  };
  if (!policy.loopback && policy.allowHosts.length === 0 && policy.token === null) {
    throw new UnsafeBindError(
      `refusing to listen on ${host}: other machines can reach it, and any web page they open could then queue prompts and read outputs (DNS rebinding). ` +
        'Name the host names it is reached by with --allow-host NAME (repeatable), and/or require an access token with --token VALUE, --token auto or LIMELIGHT_TOKEN',
    );
  }
  return policy;
}

export interface AccessProblem {
  status: 401 | 403;
  type: 'forbidden_host' | 'forbidden_origin' | 'token_required';
  message: string;
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

/** Why the Host header is refused, or null. */
function hostProblem(host: string, policy: OriginPolicy): string | null {
  const hostname = hostnameOf(host).toLowerCase();
  if (hostname !== '' && (isLoopbackHost(hostname) || policy.allowHosts.includes(hostname))) return null;
  if (policy.loopback) {
    return `this server listens on loopback only and refuses requests addressed to "${host}"; use http://127.0.0.1 or http://localhost, or start it with --allow-host ${hostname || 'NAME'}`;
  }
  // A numeric address cannot be rebound; with only a token, the token is the protection.
  if (net.isIP(hostname.replace(/^\[|\]$/g, '')) !== 0 || (policy.allowHosts.length === 0 && policy.token !== null)) return null;
  return `this server answers only to the host names given with --allow-host (${policy.allowHosts.join(', ')}) and refuses requests addressed to "${host}"; add --allow-host ${hostname || 'NAME'} to serve it`;
}

/** Why the Origin header is refused, or null: it must be this server's own origin, scheme included. */
function originProblem(headers: IncomingHttpHeaders, policy: OriginPolicy): string | null {
  const origin = headers.origin;
  if (origin === undefined || isOriginAllowed(origin, policy)) return null;
  let own: string | null = null;
  try {
    own = new URL(`http://${headers.host ?? ''}`).origin;
  } catch {
    own = null;
  }
  if (own !== null && origin.toLowerCase() === own.toLowerCase()) return null;
  return `cross-origin request from ${origin} refused; to allow a page on that origin to use this server, start it with --allow-origin ${origin}`;
}

/** Host and Origin checks: what any request, preflight included, must pass. */
export function addressProblem(req: IncomingMessage, policy: OriginPolicy): AccessProblem | null {
  const host = hostProblem(req.headers.host ?? '', policy);
  if (host) return { status: 403, type: 'forbidden_host', message: host };
  const origin = originProblem(req.headers, policy);
  if (origin) return { status: 403, type: 'forbidden_origin', message: origin };
  return null;
}

/** Why the request lacks the access token, or null (also when the server has none). */
export function tokenProblem(req: IncomingMessage, policy: OriginPolicy): AccessProblem | null {
  if (policy.token === null || tokenMatches(requestToken(req), policy.token)) return null;
  return {
    status: 401,
    type: 'token_required',
    message: 'this server needs its access token: open the editor with the address printed when the server started (…/?token=TOKEN); API clients send "Authorization: Bearer TOKEN" or ?token=TOKEN',
  };
}

/** Why the request may not proceed (address, then token), or null. */
export function accessProblem(req: IncomingMessage, policy: OriginPolicy): AccessProblem | null {
  return addressProblem(req, policy) ?? tokenProblem(req, policy);
}
