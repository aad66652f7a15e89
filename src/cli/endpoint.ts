/**
 * Which model the demo talks to: the embedded scripted model, or a real
 * OpenAI-compatible endpoint named by OPENAI_BASE_URL / OPENAI_API_KEY. The
 * only CLI module that imports `openai`; it never prints the key.
 */
import OpenAI from 'openai';
import { UsageError } from './args.js';

export const OPENAI_URL = 'https://api.openai.com/v1';

/** Where the model runs. */
export type Endpoint =
  | { kind: 'scripted' }
  | {
      kind: 'remote';
      baseURL: string;
      /** `null` when no key was given (local servers such as Ollama need none). */
      apiKey: string | null;
      model: string;
    };

/**
 * The endpoint to use: a real one when OPENAI_BASE_URL or OPENAI_API_KEY is
 * set (unless `scripted`), else the scripted model.
 *
 * @throws {UsageError} when OPENAI_BASE_URL is not an http(s) URL.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv, options: { scripted: boolean; model: string }): Endpoint {
  const baseURL = env.OPENAI_BASE_URL?.trim() || undefined;
  const apiKey = env.OPENAI_API_KEY?.trim() || null;
  if (options.scripted || (baseURL === undefined && apiKey === null)) return { kind: 'scripted' };
  if (baseURL !== undefined) {
    let url: URL;
    try {
      url = new URL(baseURL);
    } catch {
      throw new UsageError(`Expected OPENAI_BASE_URL to be an http(s) URL such as ${OPENAI_URL}, got \`${safeUrl(baseURL)}\``);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`Expected OPENAI_BASE_URL to be an http(s) URL, got the protocol \`${url.protocol}\``);
    }
  }
  return { kind: 'remote', baseURL: baseURL ?? OPENAI_URL, apiKey, model: options.model };
}

/** A URL fit to print: no user, password, query or fragment. */
export function safeUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(not a URL)';
  }
}

/** An OpenAI client for a base URL; the scripted model gets no retries, so a failure shows at once. */
export function createClient(baseURL: string, apiKey: string | null, retries: boolean): OpenAI {
  // The client insists on a key; local servers ignore whatever is sent.
  return new OpenAI({ baseURL, apiKey: apiKey ?? 'not-needed', maxRetries: retries ? 2 : 0 });
}

/** One line saying which model runs, without the key. */
export function describeEndpoint(endpoint: Endpoint, scriptedModelName: string): string {
  if (endpoint.kind === 'scripted') {
    return (
      `Model: embedded scripted model "${scriptedModelName}" — NOT an LLM. A scripted OpenAI-compatible server in this ` +
      'process plans the delegation and the tool calls from the real tool results. Set OPENAI_BASE_URL / OPENAI_API_KEY for a real model.'
    );
  }
  const key = endpoint.apiKey === null ? 'no API key' : 'API key from OPENAI_API_KEY';
  return `Model: ${endpoint.model} at ${safeUrl(endpoint.baseURL)} (OpenAI-compatible endpoint, ${key})`;
}
