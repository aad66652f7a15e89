/** The stop policy of a child: its values, their one check, and the event of a detach. */
import type { Actor } from 'xstate';
import { BadArgumentError } from '../errors.js';
import type { SupervisorMachine } from '../machines/supervisor.js';
import type { HandleSnapshot, OnParentStop } from '../types.js';
import type { EventHub } from './events.js';
import { refOf } from './snapshot.js';
import type { HandleActorSnapshot } from './snapshot.js';

/** What a child may do when its parent is stopped. */
export const STOP_POLICIES: readonly OnParentStop[] = ['cascade', 'detach'];

/** The policy when nobody sets one: a parent's stop stops its children. */
export const DEFAULT_ON_PARENT_STOP: OnParentStop = 'cascade';

/**
 * Checks an optional stop policy; `undefined` stays `undefined` (the caller
 * falls back to the next default).
 *
 * @throws {BadArgumentError} naming `field` for anything but `'cascade'`, `'detach'` or `undefined`.
 * @example
 * ```ts
 * checkOnParentStop('detach', 'onParentStop'); // 'detach'
 * ```
 */
export function checkOnParentStop(value: unknown, field: string): OnParentStop | undefined {
  if (value === undefined || (STOP_POLICIES as readonly unknown[]).includes(value)) return value as OnParentStop | undefined;
  throw new BadArgumentError(field, `one of ${STOP_POLICIES.map((policy) => `'${policy}'`).join(', ')}`, value);
}

/** How a `handle-detach` event names the parent's stop. */
const PARENT_STOPS = { 'RUN.INTERRUPT': 'interrupt', 'RUN.CANCEL': 'cancel', 'HANDLE.CLOSE': 'close' } as const;

/** Each child the supervisor's cascade passes by is told to the listeners (`handle-detach`), with where it stands now. */
export function announceDetaches(
  supervisor: Actor<SupervisorMachine>,
  hub: EventHub,
  snapshotOf: (id: string) => HandleActorSnapshot | undefined,
  toHandleSnapshot: (snapshot: HandleActorSnapshot) => HandleSnapshot,
): void {
  supervisor.on('child-detach', ({ id, command }) => {
    const snapshot = snapshotOf(id);
    if (snapshot && hub.wants('handle-detach')) hub.emit({ type: 'handle-detach', ...refOf(snapshot), parentStop: PARENT_STOPS[command], handle: toHandleSnapshot(snapshot) });
  });
}
