import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PARENTS_SHOWN, SupervisorBook } from '../../src/machines/supervisor-book.js';

const newBook = (maxConcurrentChildren = 3, maxConcurrentRuns: number | null = null) => new SupervisorBook({ maxConcurrentChildren, maxConcurrentRuns });

describe('supervisor book', () => {
  it('admits handles with keys in spawn order and depths below their parents', () => {
    const book = newBook();
    expect(book.admit('a', null)).toEqual({ key: '0', parentId: null, depth: 1 });
    expect(book.admit('a1', 'a')).toEqual({ key: '1', parentId: 'a', depth: 2 });
    expect(book.admit('a1x', 'a1')).toEqual({ key: '2', parentId: 'a1', depth: 3 });
    expect(book.admit('a2', 'a')).toEqual({ key: '3', parentId: 'a', depth: 2 });
    expect([...book.ids()]).toEqual(['a', 'a1', 'a1x', 'a2']);
    expect(book.childrenOf('a')).toEqual(['a1', 'a2']);
    expect([book.depthOf(null), book.depthOf('a1'), book.depthOf('ghost')]).toEqual([0, 2, undefined]);
    expect([book.idOfKey('2'), book.idOfKey('9'), book.keyOf('a1x'), book.keyOf('ghost')]).toEqual(['a1x', undefined, '2', undefined]);
    // What it hands out is a copy: changing it changes nothing in the book.
    const entry = book.entry('a') as { depth: number };
    entry.depth = 7;
    expect(book.entry('a')?.depth).toBe(1);
  });

  it('lists a subtree deepest first, and removes it with its keys, freeing the parent of it', () => {
    const book = newBook();
    for (const [id, parent] of [['a', null], ['a1', 'a'], ['a1x', 'a1'], ['a2', 'a'], ['b', null]] as const) book.admit(id, parent);
    expect(book.subtreeOf('a')).toEqual(['a1x', 'a1', 'a2', 'a']);
    expect(book.subtreeOf('ghost')).toEqual([]);
    expect(book.removeSubtree('a1')).toEqual([
      { id: 'a1x', key: '2' },
      { id: 'a1', key: '1' },
    ]);
    expect(book.childrenOf('a')).toEqual(['a2']);
    expect([book.has('a1'), book.has('a1x'), book.idOfKey('1'), book.size]).toEqual([false, false, undefined, 3]);
    expect(book.removeSubtree('a1')).toEqual([]);
    // An id can come back; it gets a new key.
    expect(book.admit('a1', 'a').key).toBe('5');
  });

  it('keeps a deep chain without overflowing the stack', () => {
    const book = newBook();
    let parent: string | null = null;
    for (let index = 0; index < 20_000; index += 1) {
      book.admit(`h${index}`, parent);
      parent = `h${index}`;
    }
    const subtree = book.subtreeOf('h0');
    expect(subtree).toHaveLength(20_000);
    expect([subtree[0], subtree.at(-1)]).toEqual(['h19999', 'h0']);
    expect(book.removeSubtree('h0')).toHaveLength(20_000);
    expect(book.size).toBe(0);
  });

  it('grants slots per parent in FIFO order, and frees a failed handle’s slot or place', () => {
    const book = newBook(1);
    for (const id of ['a', 'b', 'c']) book.admit(id, null);
    expect(book.requestSlot('0', 1, null)).toEqual([{ key: '0', slotSeq: 1 }]);
    expect(book.requestSlot('1', 1, null)).toEqual([]);
    expect(book.requestSlot('2', 1, null)).toEqual([]);
    expect([book.running, book.waiting, book.slotOf('1')]).toEqual([1, 2, { slotSeq: 1, holds: false }]);
    expect(book.loadOf(null)).toEqual({ running: 1, waiting: 2 });
    // The holder's actor failed: its slot goes to the first in line.
    expect(book.releaseAnySlot('0')).toEqual([{ key: '1', slotSeq: 1 }]);
    // A waiting one failed: it leaves the queue, nobody is granted.
    expect(book.releaseAnySlot('2')).toEqual([]);
    expect(book.releaseAnySlot('2')).toEqual([]);
    expect([book.running, book.waiting]).toEqual([1, 0]);
    expect(book.setLimits(2, null)).toEqual([]);
    expect(book.requestSlot('2', 2, null)).toEqual([{ key: '2', slotSeq: 2 }]);
  });

  it('shows itself as a small plain-JSON projection of counts, however many handles it holds', () => {
    const book = newBook(2, null);
    const parents = 50;
    for (let index = 0; index < parents; index += 1) book.admit(`p${index}`, null);
    for (let index = 0; index < 50_000; index += 1) {
      const parentId = `p${index % parents}`;
      const { key } = book.admit(`h${index}`, parentId);
      book.requestSlot(key, 1, parentId);
    }
    const projection = book.toJSON();
    expect(JSON.parse(JSON.stringify(book))).toEqual(projection);
    expect(projection).toMatchObject({
      handles: 50_050,
      running: 100,
      waiting: 49_900,
      spawned: 50_050,
      maxConcurrentChildren: 2,
      maxConcurrentRuns: null,
      parentsRunning: 50,
      parentsWaiting: 50,
    });
    expect(Object.keys(projection.byParent)).toHaveLength(MAX_PARENTS_SHOWN);
    expect(projection.byParent.p0).toEqual({ running: 2, waiting: 998 });
    expect(JSON.stringify(projection).length).toBeLessThan(2_000);
    // Nothing else is enumerable: walking the object (as XState persists a context) finds no handle.
    expect(Object.keys(book)).toEqual([]);
  });

  it('agrees with a plain reference tree under random admits and removals', () => {
    type Operation = { kind: 'admit'; parent: number } | { kind: 'remove'; target: number };
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), parent: fc.integer({ min: -1, max: 30 }) }),
      fc.record({ kind: fc.constant('remove' as const), target: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations: Operation[]) => {
        const book = newBook();
        // The reference: parent of each live id, children in spawn order.
        const parents = new Map<string, string | null>();
        const children = (id: string) => [...parents].filter(([, parent]) => parent === id).map(([child]) => child);
        const subtree = (id: string): string[] => [...children(id).flatMap(subtree), id];
        let next = 0;
        for (const op of operations) {
          if (op.kind === 'admit') {
            const parent = op.parent < 0 ? null : `h${op.parent}`;
            if (parent !== null && !parents.has(parent)) continue;
            const id = `h${next++}`;
            book.admit(id, parent);
            parents.set(id, parent);
          } else {
            const id = `h${op.target}`;
            const expected = parents.has(id) ? subtree(id) : [];
            expect(book.removeSubtree(id).map((removed) => removed.id)).toEqual(expected);
            for (const removed of expected) parents.delete(removed);
          }
          expect([...book.ids()].sort()).toEqual([...parents.keys()].sort());
          for (const id of parents.keys()) {
            expect(book.childrenOf(id)).toEqual(children(id));
            expect(book.subtreeOf(id)).toEqual(subtree(id));
          }
        }
      }),
    );
  });
});
