/**
 * What the HTTP server checks before a request reaches MCP. A local server
 * that can run tools is open to DNS rebinding (a web page whose name resolves
 * to 127.0.0.1 posts to it from the browser): such a request names a foreign
 * host in `Host` and comes with a foreign `Origin`, so both must be loopback.
 * Every request must also carry the server's bearer token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Whether `hostname` (as `URL.hostname` gives it) is this machine's loopback. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name === '[::1]' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Whether a `Host` header names a loopback address (any port). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  try {
    return isLoopbackName(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

/** Whether an `Origin` header is absent (not a browser) or a loopback http(s) origin. */
export function isAllowedOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname);
  } catch {
    // `null` (a sandboxed or file page) and anything unparsable.
    return false;
  }
}

/** A fresh bearer token: 32 random bytes, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Whether an `Authorization` header carries `Bearer <expected>`. Compared in
 * constant time over digests, so neither the content nor the length of the
 * token leaks through timing.
 */
export function bearerMatches(expected: string, authorization: string | undefined): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  const given = match?.[1] ?? '';
  const equal = timingSafeEqual(digest(given), digest(expected));
  return match !== null && equal;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
