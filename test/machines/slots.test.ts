import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSlotState, releaseSlot, requestSlot, setSlotLimits } from '../../src/machines/slots.js';
import type { Grant, SlotState } from '../../src/machines/slots.js';

const keys = (grants: Grant[]) => grants.map((grant) => grant.key);

/** The counters agree with the holders: what every test checks after every operation. */
function expectConsistent(state: SlotState): void {
  const holders = Object.keys(state.holders);
  expect(state.runningTotal).toBe(holders.length);
  const byParent = [...state.runningByParent.values()];
  expect(byParent.reduce((sum, count) => sum + count, 0)).toBe(state.runningTotal);
  const waitingByParent = [...state.waitingByParent.values()];
  expect(state.waitingTotal).toBe(Object.keys(state.waiting).length);
  expect(waitingByParent.reduce((sum, count) => sum + count, 0)).toBe(state.waitingTotal);
  for (const count of waitingByParent) expect(count).toBeGreaterThan(0);
  for (const count of byParent) {
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(state.maxPerParent);
  }
  if (state.maxTotal !== null) expect(state.runningTotal).toBeLessThanOrEqual(state.maxTotal);
  for (const key of holders) expect(state.waiting[key], `${key} both holds and waits`).toBeUndefined();
}

describe('slot scheduler', () => {
  it('caps running per parent and grants the next waiter of that parent when a slot frees', () => {
    const state = createSlotState(2, null);
    expect(requestSlot(state, 'a', 1, 'P')).toEqual([{ key: 'a', slotSeq: 1 }]);
    expect(requestSlot(state, 'b', 1, 'P')).toEqual([{ key: 'b', slotSeq: 1 }]);
    expect(requestSlot(state, 'c', 1, 'P')).toEqual([]);
    // Another parent has its own cap.
    expect(requestSlot(state, 'x', 1, 'Q')).toEqual([{ key: 'x', slotSeq: 1 }]);
    expect(Object.fromEntries(state.runningByParent)).toEqual({ P: 2, Q: 1 });
    expectConsistent(state);
    // A slot of Q frees nothing for P.
    expect(releaseSlot(state, 'x', 1, 'Q')).toEqual([]);
    expect(releaseSlot(state, 'a', 1, 'P')).toEqual([{ key: 'c', slotSeq: 1 }]);
    expect(state.holders).toEqual({ b: 1, c: 1 });
    expectConsistent(state);
  });

  it('caps running globally across parents', () => {
    const state = createSlotState(3, 2);
    expect(keys(requestSlot(state, 'a', 1, 'P'))).toEqual(['a']);
    expect(keys(requestSlot(state, 'b', 1, 'Q'))).toEqual(['b']);
    expect(keys(requestSlot(state, 'c', 1, 'R'))).toEqual([]);
    expect(keys(requestSlot(state, 'd', 1, 'P'))).toEqual([]);
    expect(state.runningTotal).toBe(2);
    expect(keys(releaseSlot(state, 'b', 1, 'Q'))).toEqual(['c']);
    expect(keys(releaseSlot(state, 'c', 1, 'R'))).toEqual(['d']);
    expectConsistent(state);
  });

  it('hands slots over in arrival order across parents under a global cap', () => {
    const state = createSlotState(10, 1);
    requestSlot(state, 'first', 1, 'P');
    const arrivals: Array<[string, string]> = [
      ['q1', 'Q'],
      ['p1', 'P'],
      ['r1', 'R'],
      ['q2', 'Q'],
      ['p2', 'P'],
    ];
    for (const [key, parent] of arrivals) expect(requestSlot(state, key, 1, parent)).toEqual([]);
    const order: string[] = [];
    let holder: [string, string] = ['first', 'P'];
    for (let index = 0; index < arrivals.length; index += 1) {
      const grants = releaseSlot(state, holder[0], 1, holder[1]);
      expect(grants).toHaveLength(1);
      const key = grants[0]!.key;
      order.push(key);
      holder = arrivals.find(([candidate]) => candidate === key)!;
      expectConsistent(state);
    }
    expect(order).toEqual(arrivals.map(([key]) => key));
  });

  it('lets a later request of another parent pass a waiter whose own parent is at its cap', () => {
    const state = createSlotState(1, 2);
    requestSlot(state, 'p1', 1, 'P');
    // p2 waits for P's cap, not for the global one: q1 may run now.
    expect(requestSlot(state, 'p2', 1, 'P')).toEqual([]);
    expect(keys(requestSlot(state, 'q1', 1, 'Q'))).toEqual(['q1']);
    // Global cap now full: P's slot goes to P's waiter when it frees.
    expect(keys(releaseSlot(state, 'p1', 1, 'P'))).toEqual(['p2']);
    expectConsistent(state);
  });

  it('ignores a release whose slotSeq is stale and never releases a slot twice', () => {
    const state = createSlotState(1, null);
    requestSlot(state, 'a', 1, 'P');
    releaseSlot(state, 'a', 1, 'P');
    expect(keys(requestSlot(state, 'a', 2, 'P'))).toEqual(['a']);
    requestSlot(state, 'b', 1, 'P');
    // The release of the earlier request arrives late: a still holds its current slot.
    expect(releaseSlot(state, 'a', 1, 'P')).toEqual([]);
    expect(state.holders).toEqual({ a: 2 });
    expect(keys(releaseSlot(state, 'a', 2, 'P'))).toEqual(['b']);
    // Released twice: the second one is a no-op.
    expect(releaseSlot(state, 'a', 2, 'P')).toEqual([]);
    expect(state.holders).toEqual({ b: 1 });
    // Unknown key: a no-op too.
    expect(releaseSlot(state, 'nobody', 7, 'P')).toEqual([]);
    expectConsistent(state);
  });

  it('drops a request withdrawn while waiting, and a new request of the same handle queues at the back', () => {
    const state = createSlotState(1, null);
    requestSlot(state, 'holder', 1, 'P');
    requestSlot(state, 'a', 1, 'P');
    requestSlot(state, 'b', 1, 'P');
    // a gives up its place (interrupted while awaiting a slot), then asks again.
    expect(releaseSlot(state, 'a', 1, 'P')).toEqual([]);
    expect(requestSlot(state, 'a', 2, 'P')).toEqual([]);
    expect(releaseSlot(state, 'holder', 1, 'P')).toEqual([{ key: 'b', slotSeq: 1 }]);
    // The stale queue entry of a (slotSeq 1) is never granted; its live one is.
    expect(releaseSlot(state, 'b', 1, 'P')).toEqual([{ key: 'a', slotSeq: 2 }]);
    expect(releaseSlot(state, 'a', 2, 'P')).toEqual([]);
    expect(state.runningTotal).toBe(0);
    expect(state.queues).toEqual({});
    expect(state.parentsWaiting).toEqual([]);
    expectConsistent(state);
  });

  it('admits waiters in arrival order when the limits are raised, and never revokes when they are lowered', () => {
    const state = createSlotState(1, 1);
    requestSlot(state, 'a', 1, 'P');
    requestSlot(state, 'b', 1, 'Q');
    requestSlot(state, 'c', 1, 'P');
    requestSlot(state, 'd', 1, 'R');
    expect(keys(setSlotLimits(state, 1, 3))).toEqual(['b', 'd']);
    expect(keys(setSlotLimits(state, 2, null))).toEqual(['c']);
    expectConsistent(state);
    expect(setSlotLimits(state, 1, 1)).toEqual([]);
    // Over the new caps: running ones go on, nobody new starts until enough have ended.
    expect(state.runningTotal).toBe(4);
    requestSlot(state, 'e', 1, 'Q');
    expect(releaseSlot(state, 'a', 1, 'P')).toEqual([]);
    expect(releaseSlot(state, 'b', 1, 'Q')).toEqual([]);
    expect(releaseSlot(state, 'c', 1, 'P')).toEqual([]);
    expect(keys(releaseSlot(state, 'd', 1, 'R'))).toEqual(['e']);
  });

  it('agrees with a reference FIFO scheduler under random requests, releases and limit changes', () => {
    type Operation =
      | { kind: 'request'; handle: number }
      | { kind: 'release'; handle: number; stale: boolean }
      | { kind: 'limits'; perParent: number; total: number | null };
    const handleCount = 8;
    const parentOf = (handle: number) => `P${handle % 3}`;
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), handle: fc.nat(handleCount - 1) }),
      fc.record({ kind: fc.constant('release' as const), handle: fc.nat(handleCount - 1), stale: fc.boolean() }),
      fc.record({
        kind: fc.constant('limits' as const),
        perParent: fc.integer({ min: 1, max: 3 }),
        total: fc.option(fc.integer({ min: 1, max: 4 })),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.option(fc.integer({ min: 1, max: 4 })), fc.array(operation, { maxLength: 60 }), (perParent, total, operations) => {
        const state = createSlotState(perParent, total);
        // Reference: waiting requests in arrival order; after every operation, grant greedily in that order.
        const reference = { perParent, total, waiting: [] as number[], holding: new Set<number>() };
        const seq = new Array<number>(handleCount).fill(0);
        const phase = new Array<'idle' | 'asked'>(handleCount).fill('idle');
        const runningOf = (parent: string) => [...reference.holding].filter((handle) => parentOf(handle) === parent).length;
        const referenceGrants = (): number[] => {
          const granted: number[] = [];
          for (let index = 0; index < reference.waiting.length; ) {
            const handle = reference.waiting[index]!;
            const globalRoom = reference.total === null || reference.holding.size < reference.total;
            if (globalRoom && runningOf(parentOf(handle)) < reference.perParent) {
              reference.waiting.splice(index, 1);
              reference.holding.add(handle);
              granted.push(handle);
              index = 0;
            } else index += 1;
          }
          return granted;
        };
        for (const op of operations) {
          let grants: Grant[];
          if (op.kind === 'request') {
            // A handle asks only when it holds nothing and waits for nothing (it releases before asking anew).
            if (phase[op.handle] !== 'idle') continue;
            seq[op.handle]! += 1;
            phase[op.handle] = 'asked';
            reference.waiting.push(op.handle);
            grants = requestSlot(state, `h${op.handle}`, seq[op.handle]!, parentOf(op.handle));
          } else if (op.kind === 'release') {
            if (op.stale) {
              grants = releaseSlot(state, `h${op.handle}`, seq[op.handle]! - 1, parentOf(op.handle));
            } else {
              if (phase[op.handle] !== 'asked') continue;
              phase[op.handle] = 'idle';
              reference.holding.delete(op.handle);
              reference.waiting = reference.waiting.filter((handle) => handle !== op.handle);
              grants = releaseSlot(state, `h${op.handle}`, seq[op.handle]!, parentOf(op.handle));
            }
          } else {
            reference.perParent = op.perParent;
            reference.total = op.total;
            grants = setSlotLimits(state, op.perParent, op.total);
          }
          const expected = referenceGrants().map((handle) => ({ key: `h${handle}`, slotSeq: seq[handle] }));
          expect(grants).toEqual(expected);
          expect(Object.keys(state.holders).sort()).toEqual([...reference.holding].map((handle) => `h${handle}`).sort());
          expect(state.runningTotal).toBe(reference.holding.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
