/**
 * What leaves the process when a run is inspected: every inspection event is
 * copied with secrets redacted and large values cut down before any observer
 * (the Stately inspector, a logger, …) sees it.
 */
import type { ActorRefLike, AnyEventObject, InspectionEvent, Observer, Snapshot } from 'xstate';
import { isPlainRecord, sanitizeValue, valueSettings } from './sanitize-value.js';
import type { ValueSettings } from './sanitize-value.js';

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

const SANITIZED = Symbol.for('subagents.sanitizedInspectionObserver');

/** The settings of one wrapper, and its actor reference wrappers (one per actor, so observers can compare them). */
interface Sanitizer extends ValueSettings {
  refs: WeakMap<object, ActorRefLike>;
}

/**
 * Wraps an XState inspection observer so that every event it receives is a
 * sanitized copy: strings redacted of secrets and cut to a few hundred
 * characters, objects with a `toJSON` method replaced by what it returns
 * (sanitized too: the supervisor's bookkeeping shows as counts), other
 * objects that are not plain data (clients, sockets, …) replaced by their
 * class name, and actor references answering `getSnapshot()` with a
 * sanitized snapshot. A value that cannot be sanitized is dropped, never
 * sent raw. Every event is sanitized afresh: nothing read from a snapshot is
 * kept, so a context changed in place shows as it is now. Wrapping an
 * observer twice returns the first wrapper.
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
  const sanitizer = createSanitizer(options);
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
    error: (error: unknown) => target.error?.(sanitizeValue(error, sanitizer)),
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
  return sanitizeEvent(event, createSanitizer(options));
}

/**
 * A sanitized, plain-data copy of any value: secrets redacted, long strings
 * cut, long arrays shortened, objects with `toJSON` projected, other class
 * instances replaced by their name.
 *
 * @example
 * ```ts
 * sanitizeInspectionValue({ apiKey: 'abc', client: new OpenAI() }); // { apiKey: '[redacted]', client: '[redacted]' }
 * ```
 */
export function sanitizeInspectionValue(value: unknown, options: InspectionSanitizeOptions = {}): unknown {
  return sanitizeValue(value, valueSettings(options));
}

function createSanitizer(options: InspectionSanitizeOptions): Sanitizer {
  return { ...valueSettings(options), refs: new WeakMap() };
}

function isSanitized(observer: InspectionObserver): observer is Observer<InspectionEvent> {
  return typeof observer === 'object' && observer !== null && (observer as unknown as Record<symbol, unknown>)[SANITIZED] === true;
}

function sanitizeEvent(event: InspectionEvent, sanitizer: Sanitizer): InspectionEvent {
  const actorRef = wrapRef(event.actorRef, sanitizer);
  switch (event.type) {
    case '@xstate.snapshot':
    case '@xstate.transition':
    case '@xstate.microstep':
      return { ...event, actorRef, event: sanitizeEventObject(event.event, sanitizer), snapshot: sanitizeSnapshot(event.snapshot, sanitizer) };
    case '@xstate.event':
      return {
        ...event,
        actorRef,
        sourceRef: event.sourceRef === undefined ? undefined : wrapRef(event.sourceRef, sanitizer),
        event: sanitizeEventObject(event.event, sanitizer),
      };
    case '@xstate.action':
      return { ...event, actorRef, action: { type: event.action.type, params: sanitizeValue(event.action.params, sanitizer) } };
    case '@xstate.actor':
      return { ...event, actorRef };
    default:
      // An inspection event of a newer XState: pass on only what is known to be safe.
      return { type: (event as { type: string }).type, rootId: (event as InspectionEvent).rootId, actorRef } as InspectionEvent;
  }
}

function sanitizeEventObject(event: AnyEventObject, sanitizer: Sanitizer): AnyEventObject {
  const copy = sanitizeValue(event, sanitizer);
  const type = typeof event.type === 'string' ? event.type : String(event.type);
  return { ...(isPlainRecord(copy) ? copy : {}), type };
}

/**
 * A copy of a snapshot with its data sanitized. Machine snapshots are object
 * literals carrying their methods (`matches`, `toJSON`, …), so a shallow copy
 * keeps them working.
 */
function sanitizeSnapshot<T extends Snapshot<unknown>>(snapshot: T, sanitizer: Sanitizer): T {
  if (typeof snapshot !== 'object' || snapshot === null) return snapshot;
  const source = snapshot as unknown as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...source };
  for (const field of ['context', 'output', 'error', 'input'] as const) {
    if (field in source) copy[field] = sanitizeValue(source[field], sanitizer);
  }
  return copy as T;
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
