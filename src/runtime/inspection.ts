/**
 * What leaves the process when a run is inspected: every inspection event is
 * copied with secrets redacted and large values cut down before any observer
 * (the Stately inspector, a logger, …) sees it.
 */
import type { ActorRefLike, AnyEventObject, InspectionEvent, Observer, Snapshot } from 'xstate';
import { BadArgumentError } from '../errors.js';
import { createSanitizer } from './inspection-cache.js';
import type { Sanitizer, Settings, Walk } from './inspection-cache.js';
import { REDACTED, isSecretKey, redactSecrets } from '../secrets.js';

export { REDACTED, redactSecrets } from '../secrets.js';

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


/** Sanitized strings kept per observer: how many, and how many characters of source text in all. */
const MAX_CACHED_STRINGS = 8_192;
const MAX_CACHED_CHARS = 2_000_000;

const SANITIZED = Symbol.for('subagents.sanitizedInspectionObserver');

/**
 * Wraps an XState inspection observer so that every event it receives is a
 * sanitized copy: strings redacted of secrets and cut to a few hundred
 * characters, objects that are not plain data (clients, sockets, …) replaced
 * by their class name, the supervisor's tree and slot bookkeeping replaced by
 * counts, and actor references answering `getSnapshot()` with a sanitized
 * snapshot. A value that cannot be sanitized is dropped, never sent raw.
 * Wrapping an observer twice returns the first wrapper.
 *
 * Sanitized copies are reused while the wrapper lives, on XState's terms:
 * snapshots, contexts and events are not changed once emitted (a machine that
 * mutates its context in place may show stale, never unredacted, values; the
 * supervisor's own context is always read afresh). Observers must not mutate
 * what they receive.
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
  // One sanitizer per wrapper: its caches live as long as the observer, and answer only for these settings.
  const sanitizer = createSanitizer(resolveSettings(options));
  const target: Observer<InspectionEvent> = typeof observer === 'function' ? { next: observer } : observer;
  const wrapped: Observer<InspectionEvent> = {
    next: (event) => {
      let sanitized: InspectionEvent;
      try {
        sanitized = sanitizeEvent(event, sanitizer);
      } catch {
        // Fail closed: an event that cannot be made safe is not sent at all.
        return;
      }
      target.next?.(sanitized);
    },
    error: (error: unknown) => target.error?.(sanitizeRoot(error, sanitizer, false)),
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
  return sanitizeEvent(event, createSanitizer(resolveSettings(options)));
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
  return sanitizeRoot(value, createSanitizer(resolveSettings(options)), false);
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

/** A sanitized copy of a value that nothing else contains. */
function sanitizeRoot(value: unknown, sanitizer: Sanitizer, cache: boolean): unknown {
  if (typeof value !== 'object' || value === null) return sanitizePrimitive(value, sanitizer);
  return sanitizeObject(value, sanitizer, 0, { cache, ancestors: [], cycles: 0, deepest: -1 });
}

function sanitizeEvent(event: InspectionEvent, sanitizer: Sanitizer): InspectionEvent {
  const actorRef = wrapRef(event.actorRef, sanitizer);
  switch (event.type) {
    case '@xstate.snapshot':
    case '@xstate.transition':
    case '@xstate.microstep':
      return {
        ...event,
        actorRef,
        event: sanitizeEventObject(event.event, sanitizer),
        snapshot: sanitizeSnapshot(event.snapshot, sanitizer),
      };
    case '@xstate.event':
      return {
        ...event,
        actorRef,
        sourceRef: event.sourceRef === undefined ? undefined : wrapRef(event.sourceRef, sanitizer),
        event: sanitizeEventObject(event.event, sanitizer),
      };
    case '@xstate.action':
      // Parameters are computed per action, possibly from mutable state: never cached.
      return { ...event, actorRef, action: { type: event.action.type, params: sanitizeRoot(event.action.params, sanitizer, false) } };
    case '@xstate.actor':
      return { ...event, actorRef };
    default:
      // An inspection event of a newer XState: pass on only what is known to be safe.
      return { type: (event as { type: string }).type, rootId: (event as InspectionEvent).rootId, actorRef } as InspectionEvent;
  }
}

function sanitizeEventObject(event: AnyEventObject, sanitizer: Sanitizer): AnyEventObject {
  const cacheable = typeof event === 'object' && event !== null;
  if (cacheable) {
    const known = sanitizer.events.get(event);
    if (known !== undefined) return known;
  }
  let result: AnyEventObject;
  if (isPlainRecord(event) && !isActorRef(event)) {
    // The usual case, copied straight into the result: the copy is not shared, so its type can be set.
    const copy = copyRecord(event, sanitizer, 0, { cache: true, ancestors: [], cycles: 0, deepest: -1 });
    copy.type = typeof event.type === 'string' ? event.type : String(event.type);
    result = copy as AnyEventObject;
  } else {
    const copy = sanitizeRoot(event, sanitizer, true);
    const type = typeof event.type === 'string' ? event.type : String(event.type);
    result = { ...(isPlainRecord(copy) ? copy : {}), type };
  }
  if (cacheable) sanitizer.events.set(event, result);
  return result;
}

/**
 * A copy of a snapshot with its data sanitized. Machine snapshots are object
 * literals carrying their methods (`matches`, `toJSON`, …), so a shallow copy
 * keeps them working.
 */
function sanitizeSnapshot<T extends Snapshot<unknown>>(snapshot: T, sanitizer: Sanitizer): T {
  if (typeof snapshot !== 'object' || snapshot === null) return snapshot;
  const source = snapshot as unknown as Record<string, unknown>;
  const context = source.context;
  const supervisor = isSupervisorContext(context) ? context : null;
  if (supervisor === null) {
    const known = sanitizer.snapshots.get(source);
    if (
      known !== undefined &&
      known.context === context &&
      known.output === source.output &&
      known.error === source.error &&
      known.input === source.input
    ) {
      return known.result as T;
    }
  }
  const copy: Record<string, unknown> = { ...source };
  if (supervisor !== null) copy.context = sanitizeSupervisorContext(supervisor, sanitizer);
  else if ('context' in source) copy.context = sanitizeRoot(context, sanitizer, true);
  if ('output' in source) copy.output = sanitizeRoot(source.output, sanitizer, true);
  if ('error' in source) copy.error = sanitizeRoot(source.error, sanitizer, true);
  if ('input' in source) copy.input = sanitizeRoot(source.input, sanitizer, true);
  // A supervisor snapshot is copied anew every time: a copy handed out earlier keeps the counts it had.
  if (supervisor === null) sanitizer.snapshots.set(source, { context, output: source.output, error: source.error, input: source.input, result: copy });
  return copy as T;
}

type SupervisorContextShape = Record<string, unknown> & { tree: Record<string, unknown>; slots: Record<string, unknown> };

/** The supervisor keeps its whole tree and slot queues in context. */
function isSupervisorContext(context: unknown): context is SupervisorContextShape {
  return isPlainRecord(context) && isPlainRecord(context.tree) && isPlainRecord(context.slots);
}

/**
 * The supervisor's context with its tree and slot bookkeeping replaced by the
 * counts an inspector needs. It is mutated in place, so it is walked afresh
 * every time and nothing from it is cached.
 */
function sanitizeSupervisorContext(context: SupervisorContextShape, sanitizer: Sanitizer): Record<string, unknown> {
  const walk: Walk = { cache: false, ancestors: [context], cycles: 0, deepest: -1 };
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(context)) {
    if (key === 'tree' || key === 'slots') continue;
    copy[key] = sanitizeEntry(key, context[key], sanitizer, 1, walk);
  }
  const { tree, slots } = context;
  copy.handleCount = Object.keys(tree).length;
  copy.runningCount = typeof slots.runningTotal === 'number' ? slots.runningTotal : 0;
  copy.waitingForSlotCount = isPlainRecord(slots.waiting) ? Object.keys(slots.waiting).length : 0;
  return copy;
}

/**
 * An actor reference whose `getSnapshot()` (and parent's) answer sanitized
 * snapshots; one wrapper per actor, so observers can compare references.
 */
function wrapRef<T extends ActorRefLike | undefined>(ref: T, sanitizer: Sanitizer): T {
  if (typeof ref !== 'object' || ref === null) return ref;
  const known = sanitizer.refs.get(ref);
  if (known) return known as T;
  const proxy = new Proxy(ref, {
    get(target, property) {
      if (property === 'getSnapshot') return () => sanitizeSnapshot(target.getSnapshot() as Snapshot<unknown>, sanitizer);
      const value: unknown = Reflect.get(target, property, target);
      if (property === '_parent') return wrapRef(value as ActorRefLike | undefined, sanitizer);
      // Bound to the real actor: its methods may rely on private state.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  sanitizer.refs.set(ref, proxy);
  return proxy;
}

function sanitizeValue(value: unknown, sanitizer: Sanitizer, depth: number, walk: Walk): unknown {
  return typeof value === 'object' && value !== null ? sanitizeObject(value, sanitizer, depth, walk) : sanitizePrimitive(value, sanitizer);
}

function sanitizePrimitive(value: unknown, sanitizer: Sanitizer): unknown {
  switch (typeof value) {
    case 'string':
      return sanitizeString(value, sanitizer);
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    default:
      // number, boolean, undefined, null
      return value;
  }
}

function sanitizeObject(object: object, sanitizer: Sanitizer, depth: number, walk: Walk): unknown {
  if (walk.ancestors.includes(object)) {
    walk.cycles += 1;
    return '[circular]';
  }
  if (depth > walk.deepest) walk.deepest = depth;
  const { settings } = sanitizer;
  if (depth >= settings.maxDepth) return Array.isArray(object) ? `[array of ${object.length}]` : '[object]';
  // Only plain objects and arrays are ever cached: a hit needs none of the checks below.
  const known = walk.cache ? sanitizer.values.get(object) : undefined;
  if (known !== undefined && (known.cut ? known.depth === depth : depth + known.height <= settings.maxDepth)) {
    const deepest = depth + known.height - 1;
    if (deepest > walk.deepest) walk.deepest = deepest;
    return known.result;
  }
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Error) {
    return { name: object.name, message: sanitizeValue(object.message, sanitizer, depth + 1, walk) };
  }
  if (isActorRef(object)) {
    const id = (object as { id?: unknown }).id;
    return { xstate$$type: 1, id: typeof id === 'string' ? id : '' };
  }
  const array = Array.isArray(object);
  if (!array && !isPlainRecord(object)) return `[${object.constructor?.name ?? 'object'}]`;
  if (!walk.cache) return array ? copyArray(object as unknown[], sanitizer, depth, walk) : copyRecord(object, sanitizer, depth, walk);
  const cyclesBefore = walk.cycles;
  const deepestBefore = walk.deepest;
  walk.deepest = depth;
  const result = array ? copyArray(object as unknown[], sanitizer, depth, walk) : copyRecord(object, sanitizer, depth, walk);
  const deepest = walk.deepest;
  if (deepestBefore > walk.deepest) walk.deepest = deepestBefore;
  if (walk.cycles === cyclesBefore) {
    sanitizer.values.set(object, { result, depth, height: deepest - depth + 1, cut: deepest >= settings.maxDepth });
  }
  return result;
}

/** A fresh sanitized copy of an array: its first items, one level deeper, then how many were left out. */
function copyArray(items: readonly unknown[], sanitizer: Sanitizer, depth: number, walk: Walk): unknown[] {
  walk.ancestors.push(items);
  try {
    const kept = Math.min(items.length, sanitizer.settings.maxArrayItems);
    const copy: unknown[] = new Array<unknown>(kept);
    for (let index = 0; index < kept; index += 1) copy[index] = sanitizeValue(items[index], sanitizer, depth + 1, walk);
    if (items.length > kept) copy.push(`… ${items.length - kept} more`);
    return copy;
  } finally {
    walk.ancestors.pop();
  }
}

/** A fresh sanitized copy of a plain object, its values one level deeper. */
function copyRecord(record: Record<string, unknown>, sanitizer: Sanitizer, depth: number, walk: Walk): Record<string, unknown> {
  walk.ancestors.push(record);
  try {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(record)) copy[key] = sanitizeEntry(key, record[key], sanitizer, depth + 1, walk);
    return copy;
  } finally {
    walk.ancestors.pop();
  }
}

/** A property's value: redacted whole under a secret-like key, sanitized otherwise. */
function sanitizeEntry(key: string, value: unknown, sanitizer: Sanitizer, depth: number, walk: Walk): unknown {
  return value !== null && value !== undefined && isSecretKey(key) ? REDACTED : sanitizeValue(value, sanitizer, depth, walk);
}

function sanitizeString(text: string, sanitizer: Sanitizer): string {
  const known = sanitizer.strings.get(text);
  if (known !== undefined) return known;
  const { settings } = sanitizer;
  const result = cut(redactSecrets(text, settings.secrets), settings.maxStringLength);
  // A text too long to keep is sanitized every time it is met.
  if (text.length <= MAX_CACHED_CHARS / 4) {
    const { strings } = sanitizer;
    strings.set(text, result);
    sanitizer.stringChars += text.length;
    // Oldest first out: a Map iterates in insertion order.
    while (strings.size > MAX_CACHED_STRINGS || sanitizer.stringChars > MAX_CACHED_CHARS) {
      const oldest = strings.keys().next().value as string;
      strings.delete(oldest);
      sanitizer.stringChars -= oldest.length;
    }
  }
  return result;
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
