import { describe, expect, it } from 'vitest';
import { bearerMatches, generateToken, isAllowedOrigin, isLoopbackHost } from '../../src/mcp/http-guard.js';

describe('the HTTP guard', () => {
  it('takes only loopback Host headers, whatever the port', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:3100', 'localhost:80', 'LOCALHOST', '[::1]:3100', '127.1.2.3:9']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [undefined, '', 'evil.example', 'evil.example:3100', '127.0.0.1.evil.example', '10.0.0.2:3100', '0.0.0.0', '[::2]', 'localhost.evil.example', 'a b']) {
      expect(isLoopbackHost(host), String(host)).toBe(false);
    }
  });

  it('takes no Origin (not a browser) or a loopback http(s) one', () => {
    for (const origin of [undefined, 'http://localhost:5173', 'https://127.0.0.1', 'http://[::1]:8080']) expect(isAllowedOrigin(origin), String(origin)).toBe(true);
    for (const origin of ['null', 'https://evil.example', 'http://127.0.0.1.evil.example', 'file://', 'chrome-extension://abc', '']) {
      expect(isAllowedOrigin(origin), origin).toBe(false);
    }
  });

  it('matches the bearer token exactly', () => {
    const token = generateToken();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(generateToken()).not.toBe(token);
    expect(bearerMatches(token, `Bearer ${token}`)).toBe(true);
    expect(bearerMatches(token, `bearer ${token}`)).toBe(true);
    for (const header of [undefined, '', 'Bearer', `Basic ${token}`, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `Bearer ${token} extra`, token]) {
      expect(bearerMatches(token, header), String(header)).toBe(false);
    }
  });
});
