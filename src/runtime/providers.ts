/**
 * Named providers: what each is (a client and its settings), checked once
 * when the model run is made. Keys stay inside the clients.
 */
import { BadArgumentError } from '../errors.js';
import { rejectUnknownKeys } from './validate.js';
import type { ChatClient } from '../model/chat-client.js';
import type { ModelPrices } from '../types.js';

/**
 * A named provider: a client, and the settings its handles' model calls use.
 *
 * @example
 * ```ts
 * const local: ProviderConfig = { client: new OpenAI({ baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'ollama' }), model: 'qwen3', maxConcurrentRequests: 2 };
 * ```
 */
export interface ProviderConfig {
  client: ChatClient;
  /** @default the run's `model` */
  model?: string;
  /** Stream this provider's responses. @default the run's `stream` */
  stream?: boolean;
  /** Extra request fields for this provider, over the run's `requestOptions`; `stream_options: null` sends none. */
  requestOptions?: Record<string, unknown>;
  /** Prices of this provider's models, by model name, over the runtime's `prices` (results' and `usage()`'s cost). */
  prices?: ModelPrices;
  /** Requests in flight at once across every handle on this provider; more wait their turn, first come first served. @default no limit */
  maxConcurrentRequests?: number;
  /** Send a tool-calling turn's thinking (`reasoning_content`) back to this provider. @default true (when the server sent any) */
  echoReasoning?: boolean;
}

/** A provider as the model run holds it, checked. */
export interface ResolvedProvider {
  client: ChatClient;
  model: string | null;
  stream: boolean | null;
  requestOptions: Record<string, unknown> | undefined;
  prices: ModelPrices | undefined;
  maxConcurrentRequests: number | null;
  echoReasoning: boolean;
}

const isClient = (value: unknown): value is ChatClient => typeof value === 'object' && value !== null && 'chat' in value;
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one provider (`field` names it in errors: `client` or `providers.<name>`). */
/** The settings a provider takes. */
const PROVIDER_KEYS = ['client', 'model', 'stream', 'requestOptions', 'prices', 'maxConcurrentRequests', 'echoReasoning'] as const;

export function resolveProvider(field: string, value: unknown): ResolvedProvider {
  const config = isClient(value) ? { client: value } : (value as Partial<ProviderConfig> | null);
  if (!isPlainObject(config) || !isClient(config.client)) {
    throw new BadArgumentError(field, 'an OpenAI client (or `{ client, model?, stream?, requestOptions?, prices?, maxConcurrentRequests?, echoReasoning? }`)', value);
  }
  if (!isClient(value)) rejectUnknownKeys(config, PROVIDER_KEYS, field);
  if (config.model !== undefined && (typeof config.model !== 'string' || config.model.trim() === '')) {
    throw new BadArgumentError(`${field}.model`, 'a model name string', config.model);
  }
  for (const key of ['stream', 'echoReasoning'] as const) {
    if (config[key] !== undefined && typeof config[key] !== 'boolean') throw new BadArgumentError(`${field}.${key}`, 'a boolean', config[key]);
  }
  if (config.requestOptions !== undefined && !isPlainObject(config.requestOptions)) {
    throw new BadArgumentError(`${field}.requestOptions`, 'a plain object', config.requestOptions);
  }
  const limit = config.maxConcurrentRequests;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new BadArgumentError(`${field}.maxConcurrentRequests`, 'an integer >= 1', limit);
  }
  checkPrices(`${field}.prices`, config.prices);
  return {
    client: config.client,
    model: config.model ?? null,
    stream: config.stream ?? null,
    requestOptions: config.requestOptions,
    prices: config.prices,
    maxConcurrentRequests: limit ?? null,
    echoReasoning: config.echoReasoning ?? true,
  };
}

/** Checks prices by model name: `{ inputPerMillion, outputPerMillion }` of finite numbers each. */
function checkPrices(field: string, prices: unknown): void {
  if (prices === undefined) return;
  if (!isPlainObject(prices)) throw new BadArgumentError(field, 'a plain object', prices);
  for (const [model, price] of Object.entries(prices)) {
    const valid = isPlainObject(price) && Number.isFinite(price.inputPerMillion) && Number.isFinite(price.outputPerMillion);
    if (!valid) throw new BadArgumentError(`${field}.${model}`, 'an object { inputPerMillion, outputPerMillion } of finite numbers', price);
  }
}
