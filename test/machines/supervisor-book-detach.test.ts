import { describe, expect, it } from 'vitest';
import { SupervisorBook } from '../../src/machines/supervisor-book.js';

/** A tree: root agent → p → (a detach → a1 cascade), (c cascade → c1 detach); slots of a cap of 2 per parent. */
function tree() {
  const book = new SupervisorBook({ maxConcurrentChildren: 2, maxConcurrentRuns: null });
  const keys = {
    p: book.admit('p', null).key,
    a: book.admit('a', 'p', 'detach').key,
    a1: book.admit('a1', 'a').key,
    c: book.admit('c', 'p', 'cascade').key,
    c1: book.admit('c1', 'c', 'detach').key,
  };
  return { book, keys };
}

describe('SupervisorBook stop reach and detach', () => {
  it('a stop reaches the cascading descendants, deepest first, and passes by a detaching child with its subtree', () => {
    const { book } = tree();
    expect(book.stopReach('p')).toEqual({ stopped: ['c', 'p'], detached: ['a', 'c1'] });
    // The handle stopped itself is always reached, whatever its own policy.
    expect(book.stopReach('a')).toEqual({ stopped: ['a1', 'a'], detached: [] });
    expect(book.subtreeOf('p')).toEqual(['a1', 'a', 'c1', 'c', 'p']);
  });

  it('a detached slot leaves its parent’s count, lets the next in line in, and is released once', () => {
    const { book, keys } = tree();
    book.requestSlot(keys.a, 1, 'p');
    book.requestSlot(keys.c, 1, 'p');
    // A third child of p waits: the cap is 2.
    const late = book.admit('late', 'p').key;
    expect(book.requestSlot(late, 1, 'p')).toEqual([]);
    expect(book.loadOf('p')).toEqual({ running: 2, waiting: 1 });
    expect(book.detach('a')).toEqual([{ key: late, slotSeq: 1 }]);
    expect(book.loadOf('p')).toEqual({ running: 2, waiting: 0 });
    expect(book.running).toBe(3);
    // Detaching twice moves nothing.
    expect(book.detach('a')).toEqual([]);
    expect(book.toJSON().byParent['@detached']).toEqual({ running: 1, waiting: 0 });
    // Its release comes with its parent's id: it is counted off the detached slots, not p's.
    book.releaseSlot(keys.a, 1, 'p');
    expect(book.loadOf('p')).toEqual({ running: 2, waiting: 0 });
    expect(book.running).toBe(2);
    // Its next run asks p's cap again.
    expect(book.requestSlot(keys.a, 2, 'p')).toEqual([]);
    expect(book.loadOf('p')).toEqual({ running: 2, waiting: 1 });
  });

  it('a child that holds no slot has nothing to detach', () => {
    const { book } = tree();
    expect(book.detach('a')).toEqual([]);
    expect(book.detach('unknown')).toEqual([]);
    expect(book.running).toBe(0);
  });
});
