/**
 * The plain-data copy of a value that leaves the process through inspection:
 * secrets redacted, long strings cut, long arrays shortened, deep nesting
 * cut, objects with `toJSON` shown as it says, other class instances named.
 */
import { BadArgumentError } from '../errors.js';
import { REDACTED, isSecretKey, redactSecrets } from '../secrets.js';

/** How much of a value is kept (see `InspectionSanitizeOptions`). */
export interface ValueSettings {
  maxStringLength: number;
  maxArrayItems: number;
  maxDepth: number;
  secrets: readonly string[];
}

/** The settings, checked, with their defaults. */
export function valueSettings(options: Partial<ValueSettings>): ValueSettings {
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

/**
 * A sanitized copy of a value met at `depth`, inside the objects `ancestors`
 * (meeting one of them again is a cycle). Nothing is kept between calls: a
 * value changed in place shows as it is now.
 */
export function sanitizeValue(value: unknown, settings: ValueSettings, depth = 0, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
      return cut(redactSecrets(value, settings.secrets), settings.maxStringLength);
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'object':
      return value === null ? null : sanitizeObject(value, settings, depth, ancestors);
    default:
      // number, boolean, undefined
      return value;
  }
}

function sanitizeObject(object: object, settings: ValueSettings, depth: number, ancestors: object[]): unknown {
  if (ancestors.includes(object)) return '[circular]';
  if (depth >= settings.maxDepth) return Array.isArray(object) ? `[array of ${object.length}]` : '[object]';
  if (object instanceof Error) return { name: object.name, message: sanitizeValue(object.message, settings, depth + 1, ancestors) };
  if (isActorRef(object)) {
    const id = (object as { id?: unknown }).id;
    return { xstate$$type: 1, id: typeof id === 'string' ? id : '' };
  }
  const array = Array.isArray(object);
  if (!array && !isPlainRecord(object)) {
    // An object that says how it is shown (a date, the supervisor's book, …) is shown so; once, never its projection's projection.
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== 'function') return `[${object.constructor?.name ?? 'object'}]`;
    const projected: unknown = toJSON.call(object);
    if (typeof projected === 'object' && projected !== null && !Array.isArray(projected) && !isPlainRecord(projected)) {
      return `[${object.constructor?.name ?? 'object'}]`;
    }
    ancestors.push(object);
    try {
      return sanitizeValue(projected, settings, depth, ancestors);
    } finally {
      ancestors.pop();
    }
  }
  ancestors.push(object);
  try {
    if (array) {
      const items = object as unknown[];
      const kept = Math.min(items.length, settings.maxArrayItems);
      const copy: unknown[] = new Array<unknown>(kept);
      for (let index = 0; index < kept; index += 1) copy[index] = sanitizeValue(items[index], settings, depth + 1, ancestors);
      if (items.length > kept) copy.push(`… ${items.length - kept} more`);
      return copy;
    }
    const record = object;
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      const value = record[key];
      // Redacted whole under a secret-like key, sanitized otherwise.
      copy[key] = value !== null && value !== undefined && isSecretKey(key) ? REDACTED : sanitizeValue(value, settings, depth + 1, ancestors);
    }
    return copy;
  } finally {
    ancestors.pop();
  }
}

function cut(text: string, maxLength: number): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}… [${text.length} chars]` : text;
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isActorRef(value: object): boolean {
  const candidate = value as { sessionId?: unknown; send?: unknown; getSnapshot?: unknown };
  return typeof candidate.sessionId === 'string' && typeof candidate.send === 'function' && typeof candidate.getSnapshot === 'function';
}
