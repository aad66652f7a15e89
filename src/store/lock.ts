/**
 * The lock of a store directory: a file naming the process that holds it.
 * It is created whole (written aside, then hard-linked into place, which
 * fails if it exists), so a reader never sees a half-written lock. A holder
 * whose pid is dead on this host is taken over; a live one (or one on another
 * host, which cannot be checked) keeps it. Network file systems are not
 * supported: their links and pids are not this host's.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { StoreLockedError } from '../errors.js';

interface Holder {
  pid: number;
  host: string;
}

const LOCK_FILE = 'lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Unreadable content: no process of ours wrote it (a lock is linked into place whole).
    return { pid: 0, host: hostname() };
  }
}

/** Creates `file` holding this process's lock, atomically; false if it exists. */
function tryCreate(file: string): boolean {
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify({ pid: process.pid, host: hostname() } satisfies Holder));
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

const isStale = (holder: Holder) => holder.host === hostname() && holder.pid !== process.pid && !isAlive(holder.pid);

function removeIfSame(file: string, stale: Holder): void {
  const now = readHolder(file);
  if (now && now.pid === stale.pid && now.host === stale.host) {
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Takes the lock of `directory` for this process; returns its release.
 * Taking over a stale lock is itself done under a second lock, so two
 * processes that both find the holder dead cannot both take it.
 */
export function acquireLock(directory: string): () => void {
  const file = path.join(directory, LOCK_FILE);
  const takeover = `${file}.takeover`;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    if (tryCreate(file)) return () => removeIfSame(file, { pid: process.pid, host: hostname() });
    const holder = readHolder(file);
    if (holder === null) continue; // Released meanwhile.
    if (!isStale(holder)) throw new StoreLockedError(directory, holder.pid);
    if (!tryCreate(takeover)) {
      const taker = readHolder(takeover);
      if (taker && isStale(taker)) removeIfSame(takeover, taker);
      else if (taker) throw new StoreLockedError(directory, taker.pid);
      continue;
    }
    try {
      // Under the takeover lock: still the same dead holder, so nobody else has taken it meanwhile.
      removeIfSame(file, holder);
    } finally {
      removeIfSame(takeover, { pid: process.pid, host: hostname() });
    }
  }
  const holder = readHolder(file);
  throw new StoreLockedError(directory, holder?.pid ?? 0);
}
