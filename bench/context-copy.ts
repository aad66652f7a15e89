/**
 * Micro-benchmark behind the handle-context recommendation: what one XState
 * `assign` costs to copy the context (`Object.assign({}, context, update)`,
 * as xstate's `resolveAssign` does) with the handle's current top-level
 * fields, against the same data grouped into a few top-level fields.
 * `node --allow-natives-syntax dist-bench/bench/context-copy.js` also says
 * whether each copy keeps V8's fast properties.
 */
import { performance } from 'node:perf_hooks';

/** Field names of the flat `HandleContext` before it was grouped (src/machines/handle-types.ts has the grouped one). */
const FLAT_FIELDS = [
  'spec', 'createdAt', 'updatedAt', 'revision', 'queue', 'current', 'lastInput', 'lastOutput', 'error',
  'previousStatus', 'runsStarted', 'runsEnded', 'lastRun', 'usage', 'slotSeq', 'returned', 'conversation', 'run',
];

function flatContext(fields: readonly string[]): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [index, field] of fields.entries()) context[field] = field === 'spec' ? { id: 'h' } : index;
  return context;
}

/** The same data in groups: what changes per transition stays top level, the rest in objects of their own. */
function groupedContext(): Record<string, unknown> {
  return {
    spec: { id: 'h' },
    // Changed by almost every transition.
    revision: 1,
    updatedAt: 2,
    current: null,
    slotSeq: 0,
    run: null,
    // Changed at a run's end.
    results: { lastInput: null, lastOutput: null, error: null, lastRun: null, usage: null, runsStarted: 0, runsEnded: 0, conversation: [] },
    // Changed rarely.
    inputs: { queue: [], returned: [], previousStatus: null, createdAt: 0 },
  };
}

/** ns per copy of `context` with a two-field update, over `rounds` copies (each from the previous one, as successive assigns do). */
function timeCopies(context: Record<string, unknown>, rounds: number): { ns: number; fast: boolean | null } {
  let current = context;
  const start = performance.now();
  for (let round = 0; round < rounds; round += 1) current = Object.assign({}, current, { revision: round, updatedAt: round });
  const ns = ((performance.now() - start) * 1e6) / rounds;
  return { ns, fast: hasFastProperties(current) };
}

function hasFastProperties(value: object): boolean | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- natives syntax parses only under --allow-natives-syntax, so it cannot be written statically
    return (new Function('value', 'return %HasFastProperties(value)') as (value: object) => boolean)(value);
  } catch {
    return null; // needs --allow-natives-syntax
  }
}

const ROUNDS = 100_000;
const PASSES = 5;
const extra = (count: number) => Array.from({ length: count }, (_, index) => `extra${index}`);
const cases: Array<[string, () => Record<string, unknown>]> = [
  ...[12, 16, 17, 18].map((count): [string, () => Record<string, unknown>] => [`flat, ${count} fields${count === FLAT_FIELDS.length ? " (today's handle context)" : ''}`, () => flatContext(FLAT_FIELDS.slice(0, count))]),
  ...[19, 20, 23].map((count): [string, () => Record<string, unknown>] => [`flat, ${count} fields${count === 23 ? ' (the issue’s count)' : ''}`, () => flatContext([...FLAT_FIELDS, ...extra(count - FLAT_FIELDS.length)])]),
  [`grouped, ${Object.keys(groupedContext()).length} fields`, groupedContext],
];
for (const [, make] of cases) timeCopies(make(), ROUNDS); // warm-up
const best = new Map<string, { ns: number; fast: boolean | null }>();
for (let pass = 0; pass < PASSES; pass += 1) {
  for (const [name, make] of cases) {
    const timing = timeCopies(make(), ROUNDS);
    if (!best.has(name) || timing.ns < best.get(name)!.ns) best.set(name, timing);
  }
}
console.log(`ns per Object.assign({}, context, { revision, updatedAt }), best of ${PASSES} passes of ${ROUNDS.toLocaleString('en-US')}:`);
for (const [name, { ns, fast }] of best) console.log(`  ${name}: ${ns.toFixed(0)} ns${fast === null ? '' : fast ? ', fast properties' : ', dictionary mode'}`);
