/**
 * What changed in a handle's stored record since it was last written, as a
 * store patch. A chart's context is replaced part by part (an `assign` makes
 * new objects for what it changes and keeps the rest), so parts are compared
 * by reference, and an array that starts with the items written before is
 * extended rather than written again (the conversation). The run journal is
 * the exception: the run changes it in place, so its fields are compared by
 * their JSON text, and its messages, only ever pushed, by their count.
 */
import type { StateValue } from 'xstate';
import type { HandleContext, RunJournal } from '../machines/handle-types.js';
import type { StorePatch, StorePath } from '../store/store-types.js';

type Changes = { set: Array<[StorePath, unknown]>; append: Array<[StorePath, unknown[]]> };
type Plain = Record<string, unknown>;

/** How deep below the context parts are compared one by one: `context.results.lastRun`, no further. */
const DEPTH = 1;
const CONTEXT = ['context'];
const RUN = ['context', 'run'];

const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True if `after` holds `before`'s items, the same objects, at its start. */
function extendsList(before: readonly unknown[], after: readonly unknown[]): boolean {
  if (after.length < before.length) return false;
  for (let index = 0; index < before.length; index += 1) if (before[index] !== after[index]) return false;
  return true;
}

/** Adds what turns `before` into `after` (both plain objects) to `changes`; `skip` is left to the caller. */
function diffParts(before: Plain, after: Plain, path: StorePath, depth: number, changes: Changes, skip?: string): void {
  const keys = Object.keys(after);
  const gone = (key: string) => before[key] !== undefined && after[key] === undefined;
  if (Object.keys(before).some((key) => !(key in after) || gone(key))) {
    // A key went away (JSON has no `undefined`): only the whole object says so.
    changes.set.push([path, after]);
    return;
  }
  for (const key of keys) {
    const was = before[key];
    const now = after[key];
    if (was === now || key === skip) continue;
    const at = [...path, key];
    if (depth > 0 && isPlain(was) && isPlain(now)) diffParts(was, now, at, depth - 1, changes);
    else if (Array.isArray(was) && Array.isArray(now) && extendsList(was, now)) {
      if (now.length > was.length) changes.append.push([at, now.slice(was.length)]);
    } else changes.set.push([at, now]);
  }
}

/** The run journal as written last: its other fields' JSON texts (an object's, key by key), and how many of its messages. */
interface RunWritten {
  journal: RunJournal;
  texts: Map<string, string | undefined>;
  messages: number;
  lastMessage: unknown;
}

/**
 * Compares one field of a journal changed in place with its texts written
 * last (an object's keys one by one, one level down), notes its texts now,
 * and adds what changed to `changes`.
 */
function diffField(texts: Map<string, string | undefined>, journal: RunJournal, key: string, changes: Changes | null): void {
  const value = (journal as unknown as Plain)[key];
  if (isPlain(value)) {
    const keys = Object.keys(value);
    const shape = keys.join();
    const whole = texts.get(key) !== shape || keys.some((sub) => value[sub] === undefined);
    texts.set(key, shape);
    for (const sub of keys) {
      const text = JSON.stringify(value[sub]) as string | undefined;
      if (!whole && text !== texts.get(`${key}.${sub}`)) changes?.set.push([[...RUN, key, sub], value[sub]]);
      texts.set(`${key}.${sub}`, text);
    }
    if (whole) changes?.set.push([[...RUN, key], value]);
    return;
  }
  const text = JSON.stringify(value) as string | undefined;
  // A field gone (JSON has no `undefined`) is a journal without it.
  if (text !== texts.get(key)) changes?.set.push(text === undefined ? [RUN, journal] : [[...RUN, key], value]);
  texts.set(key, text);
}

const runWritten = (journal: RunJournal | null): RunWritten | null => {
  if (!journal) return null;
  const texts = new Map<string, string | undefined>();
  for (const key of Object.keys(journal)) if (key !== 'messages') diffField(texts, journal, key, null);
  return { journal, texts, messages: journal.messages.length, lastMessage: journal.messages.at(-1) };
};

/** What changed in a run journal changed in place since `written`, which is brought up to date. */
function diffRun(written: RunWritten, changes: Changes): void {
  const { journal } = written;
  for (const key of Object.keys(journal)) if (key !== 'messages') diffField(written.texts, journal, key, changes);
  const { messages } = journal;
  const kept = messages.length >= written.messages && (written.messages === 0 || messages[written.messages - 1] === written.lastMessage);
  if (!kept) changes.set.push([[...RUN, 'messages'], messages]);
  else if (messages.length > written.messages) changes.append.push([[...RUN, 'messages'], messages.slice(written.messages)]);
  written.messages = messages.length;
  written.lastMessage = messages.at(-1);
}

/** True if two chart states are the same state (compared by value: each snapshot has its own). */
function sameState(a: StateValue | undefined, b: StateValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameState(a[key], b[key]));
}

/** A handle as stored (see durable-handles.ts). */
interface HandleRecord {
  order: number;
  state: StateValue;
  context: HandleContext;
}

/**
 * Follows one handle's record from the one first written: `next` gives the
 * patch from the record written last to this one (`null`: nothing changed)
 * and takes this one as written.
 */
export class HandleDiff {
  #order: number;
  #state: StateValue;
  #context: HandleContext;
  #run: RunWritten | null;

  constructor(first: HandleRecord) {
    this.#order = first.order;
    this.#state = first.state;
    this.#context = first.context;
    this.#run = runWritten(first.context.run);
  }

  next({ order, state, context }: HandleRecord): StorePatch | null {
    const changes: Changes = { set: [], append: [] };
    if (order !== this.#order) changes.set.push([['order'], order]);
    if (!sameState(state, this.#state)) changes.set.push([['state'], state]);
    if (context !== this.#context) diffParts(this.#context as unknown as Plain, context as unknown as Plain, CONTEXT, DEPTH, changes, 'run');
    if (context.run !== (this.#run?.journal ?? null)) {
      changes.set.push([RUN, context.run]);
      this.#run = runWritten(context.run);
    } else if (this.#run) diffRun(this.#run, changes);
    this.#order = order;
    this.#state = state;
    this.#context = context;
    if (changes.set.length + changes.append.length === 0) return null;
    return { ...(changes.set.length > 0 ? { set: changes.set } : {}), ...(changes.append.length > 0 ? { append: changes.append } : {}) };
  }
}
