/**
 * What leaves the process when a run is inspected: every inspection event is
 * copied with secrets redacted and large values cut down before any observer
 * (the Stately inspector, a logger, …) sees it.
 */
import type { ActorRefLike, AnyEventObject, InspectionEvent, Observer, Snapshot } from 'xstate';
import { BadArgumentError } from '../errors.js';

/** Options of {@link sanitizeInspectionObserver}. */
export interface InspectionSanitizeOptions {
  /** Strings longer than this are cut, with their length noted. @default 300 */
  maxStringLength?: number;
  /** Array items kept; the rest are counted. @default 20 */
  maxArrayItems?: number;
  /** Nesting kept; deeper values become a placeholder. @default 8 */
  maxDepth?: number;
  /** Exact values to redact wherever they appear, beside the built-in key patterns (pass your API key). @default [] */
  secrets?: readonly string[];
}

/** An XState inspection observer, as `createActor(…, { inspect })` takes it. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

interface Settings {
  maxStringLength: number;
  maxArrayItems: number;
  maxDepth: number;
  secrets: readonly string[];
}

/** What replaces a redacted secret. */
export const REDACTED = '[redacted]';

/** Shapes of credentials commonly found in text: API keys, tokens, authorization values. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
];

/** Keys whose values are credentials (or hold them) whatever they look like. */
const SECRET_KEY = /^(?:api[-_]?key|authorization|password|passwd|secret|client[-_]?secret|(?:access|refresh|auth)?[-_]?token|cookie|set-cookie|private[-_]?key|client)$/i;

const SANITIZED = Symbol.for('subagents.sanitizedInspectionObserver');

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
    if (secret.length >= 6) result = result.split(secret).join(REDACTED);
  }
  for (const pattern of SECRET_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}

/**
 * Wraps an XState inspection observer so that every event it receives is a
 * sanitized copy: strings redacted of secrets and cut to a few hundred
 * characters, objects that are not plain data (clients, sockets, …) replaced
 * by their class name, the supervisor's tree and slot bookkeeping replaced by
 * counts, and actor references answering `getSnapshot()` with a sanitized
 * snapshot. A value that cannot be sanitized is dropped, never sent raw.
 * Wrapping an observer twice returns the first wrapper.
 *
 * @example
 * ```ts
 * const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:8080' });
 * const runtime = createRuntime({ client, model, inspect: sanitizeInspectionObserver(inspector.inspect, { secrets: [apiKey] }) });
 * ```
 */
export function sanitizeInspectionObserver(
  observer: InspectionObserver,
  options: InspectionSanitizeOptions = {},
): Observer<InspectionEvent> {
  if (isSanitized(observer)) return observer;
  const settings = resolveSettings(options);
  const target: Observer<InspectionEvent> = typeof observer === 'function' ? { next: observer } : observer;
  const refs = new WeakMap<object, ActorRefLike>();
  const wrapped: Observer<InspectionEvent> = {
    next: (event) => {
      let sanitized: InspectionEvent;
      try {
        sanitized = sanitizeEvent(event, settings, refs);
      } catch {
        // Fail closed: an event that cannot be made safe is not sent at all.
        return;
      }
      target.next?.(sanitized);
    },
    error: (error: unknown) => target.error?.(sanitizeValue(error, settings)),
    complete: () => target.complete?.(),
  };
  Object.defineProperty(wrapped, SANITIZED, { value: true });
  return wrapped;
}

/**
 * The sanitized copy of one inspection event (see {@link sanitizeInspectionObserver}).
 *
 * @example
 * ```ts
 * const safe = sanitizeInspectionEvent(event, { maxStringLength: 100 });
 * ```
 */
export function sanitizeInspectionEvent(event: InspectionEvent, options: InspectionSanitizeOptions = {}): InspectionEvent {
  return sanitizeEvent(event, resolveSettings(options), new WeakMap());
}

/**
 * A sanitized, plain-data copy of any value: secrets redacted, long strings
 * cut, long arrays shortened, class instances replaced by their name.
 *
 * @example
 * ```ts
 * sanitizeInspectionValue({ apiKey: 'abc', client: new OpenAI() }); // { apiKey: '[redacted]', client: '[redacted]' }
 * ```
 */
export function sanitizeInspectionValue(value: unknown, options: InspectionSanitizeOptions = {}): unknown {
  return sanitizeValue(value, resolveSettings(options));
}

function resolveSettings(options: InspectionSanitizeOptions): Settings {
  const integer = (name: string, value: number | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 1) throw new BadArgumentError(name, 'an integer >= 1', value);
    return value;
  };
  return {
    maxStringLength: integer('maxStringLength', options.maxStringLength, 300),
    maxArrayItems: integer('maxArrayItems', options.maxArrayItems, 20),
    maxDepth: integer('maxDepth', options.maxDepth, 8),
    secrets: (options.secrets ?? []).filter((secret) => typeof secret === 'string' && secret !== ''),
  };
}

function isSanitized(observer: InspectionObserver): observer is Observer<InspectionEvent> {
  return typeof observer === 'object' && observer !== null && (observer as unknown as Record<symbol, unknown>)[SANITIZED] === true;
}

function sanitizeEvent(event: InspectionEvent, settings: Settings, refs: WeakMap<object, ActorRefLike>): InspectionEvent {
  const actorRef = wrapRef(event.actorRef, settings, refs);
  switch (event.type) {
    case '@xstate.snapshot':
    case '@xstate.transition':
    case '@xstate.microstep':
      return {
        ...event,
        actorRef,
        event: sanitizeEventObject(event.event, settings),
        snapshot: sanitizeSnapshot(event.snapshot, settings),
      };
    case '@xstate.event':
      return {
        ...event,
        actorRef,
        sourceRef: event.sourceRef === undefined ? undefined : wrapRef(event.sourceRef, settings, refs),
        event: sanitizeEventObject(event.event, settings),
      };
    case '@xstate.action':
      return { ...event, actorRef, action: { type: event.action.type, params: sanitizeValue(event.action.params, settings) } };
    case '@xstate.actor':
      return { ...event, actorRef };
    default:
      // An inspection event of a newer XState: pass on only what is known to be safe.
      return { type: (event as { type: string }).type, rootId: (event as InspectionEvent).rootId, actorRef } as InspectionEvent;
  }
}

function sanitizeEventObject(event: AnyEventObject, settings: Settings): AnyEventObject {
  const copy = sanitizeValue(event, settings);
  const type = typeof event.type === 'string' ? event.type : String(event.type);
  return { ...(isPlainRecord(copy) ? copy : {}), type };
}

/**
 * A copy of a snapshot with its data sanitized. Machine snapshots are object
 * literals carrying their methods (`matches`, `toJSON`, …), so a shallow copy
 * keeps them working.
 */
function sanitizeSnapshot<T extends Snapshot<unknown>>(snapshot: T, settings: Settings): T {
  if (typeof snapshot !== 'object' || snapshot === null) return snapshot;
  const source = snapshot as unknown as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...source };
  if ('context' in source) copy.context = sanitizeContext(source.context, settings);
  if ('output' in source) copy.output = sanitizeValue(source.output, settings);
  if ('error' in source) copy.error = sanitizeValue(source.error, settings);
  if ('input' in source) copy.input = sanitizeValue(source.input, settings);
  return copy as T;
}

/** The supervisor keeps its whole tree and slot queues in context: an inspector needs the counts. */
function sanitizeContext(context: unknown, settings: Settings): unknown {
  if (!isPlainRecord(context) || !isPlainRecord(context.tree) || !isPlainRecord(context.slots)) {
    return sanitizeValue(context, settings);
  }
  const { tree, slots, ...rest } = context;
  const waiting = isPlainRecord(slots.waiting) ? Object.keys(slots.waiting).length : 0;
  return {
    ...(sanitizeValue(rest, settings) as Record<string, unknown>),
    handleCount: Object.keys(tree).length,
    runningCount: typeof slots.runningTotal === 'number' ? slots.runningTotal : 0,
    waitingForSlotCount: waiting,
  };
}

/**
 * An actor reference whose `getSnapshot()` (and parent's) answer sanitized
 * snapshots; one wrapper per actor, so observers can compare references.
 */
function wrapRef<T extends ActorRefLike | undefined>(ref: T, settings: Settings, refs: WeakMap<object, ActorRefLike>): T {
  if (typeof ref !== 'object' || ref === null) return ref;
  const known = refs.get(ref);
  if (known) return known as T;
  const proxy = new Proxy(ref, {
    get(target, property) {
      if (property === 'getSnapshot') return () => sanitizeSnapshot(target.getSnapshot() as Snapshot<unknown>, settings);
      const value: unknown = Reflect.get(target, property, target);
      if (property === '_parent') return wrapRef(value as ActorRefLike | undefined, settings, refs);
      // Bound to the real actor: its methods may rely on private state.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  refs.set(ref, proxy);
  return proxy;
}

function sanitizeValue(value: unknown, settings: Settings, depth = 0, seen = new WeakSet<object>()): unknown {
  switch (typeof value) {
    case 'string':
      return cut(redactSecrets(value, settings.secrets), settings.maxStringLength);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return '[circular]';
  if (depth >= settings.maxDepth) return Array.isArray(object) ? `[array of ${object.length}]` : '[object]';
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Error) {
    return { name: object.name, message: sanitizeValue(object.message, settings, depth + 1, seen) };
  }
  if (isActorRef(object)) {
    const id = (object as { id?: unknown }).id;
    return { xstate$$type: 1, id: typeof id === 'string' ? id : '' };
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const kept = object.slice(0, settings.maxArrayItems).map((item) => sanitizeValue(item, settings, depth + 1, seen));
      if (object.length > settings.maxArrayItems) kept.push(`… ${object.length - settings.maxArrayItems} more`);
      return kept;
    }
    if (!isPlainRecord(object)) return `[${object.constructor?.name ?? 'object'}]`;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      copy[key] = SECRET_KEY.test(key) && item !== null && item !== undefined ? REDACTED : sanitizeValue(item, settings, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(object);
  }
}

function cut(text: string, maxLength: number): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}… [${text.length} chars]` : text;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isActorRef(value: object): boolean {
  const candidate = value as { sessionId?: unknown; send?: unknown; getSnapshot?: unknown };
  return typeof candidate.sessionId === 'string' && typeof candidate.send === 'function' && typeof candidate.getSnapshot === 'function';
}
