/** Credentials in text and in keys: what is redacted wherever text leaves the runtime. */

/** The shortest exact secret redacted: shorter ones would take ordinary words out of text. */
export const MIN_SECRET_LENGTH = 6;

/** What replaces a redacted secret. */
export const REDACTED = '[redacted]';

/**
 * Shapes of credentials commonly found in text: API keys, tokens, authorization
 * values. No flags but `g`, so that {@link ANY_SECRET} can join them: `Bearer`
 * and `Basic` are spelled case-insensitively by hand.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\b(?:[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])\s+[A-Za-z0-9._~+/=-]{8,}/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
];

/**
 * Matches a text iff one of {@link SECRET_PATTERNS} does, so one scan tells
 * the common case (no credential at all) apart. It only tests: replacing with
 * an alternation takes the leftmost match, which can cut a later credential
 * short where the patterns applied one after the other would not.
 */
const ANY_SECRET = new RegExp(SECRET_PATTERNS.map((pattern) => `(?:${pattern.source})`).join('|'));

/** Keys whose values are credentials (or hold them) whatever they look like. */
const SECRET_KEY = /^(?:api[-_]?key|authorization|password|passwd|secret|client[-_]?secret|(?:access|refresh|auth)?[-_]?token|cookie|set-cookie|private[-_]?key|client)$/i;

/** {@link SECRET_KEY}'s answers per key; keys are few, but the map is bounded all the same. */
const secretKeys = new Map<string, boolean>();
const MAX_SECRET_KEYS = 4_096;

/**
 * Redacts credentials from a text: the exact `secrets` given, then anything
 * shaped like an API key, token or authorization value.
 *
 * @example
 * ```ts
 * redactSecrets('key sk-proj-abcdefghij12'); // 'key [redacted]'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    // Very short "secrets" would redact ordinary words; a real key is never that short.
    if (secret.length >= MIN_SECRET_LENGTH && result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  // Tested after the exact secrets are out: their removal can put a credential's start on a word boundary.
  if (!ANY_SECRET.test(result)) return result;
  for (const pattern of SECRET_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}

/** Whether a property of this name holds a credential, whatever its value looks like. */
export function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeys.size < MAX_SECRET_KEYS) secretKeys.set(key, secret);
  }
  return secret;
}
