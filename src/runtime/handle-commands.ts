import type { ActorRefFrom } from 'xstate';
import { BadArgumentError, HandleStateError } from '../errors.js';
import type { HandleMachine } from '../machines/handle.js';
import type { CascadingCommand } from '../machines/supervisor.js';
import type { QueuedInput } from '../types.js';
import type { HandleApi } from './runtime-types.js';
import { statusOf } from './snapshot.js';
import type { HandleActorSnapshot } from './snapshot.js';
import type { HandleSnapshot } from '../types.js';

export interface CommandDeps {
  actor: HandleApi['actor'];
  /** A handle's actor; throws a typed error for an unknown id. */
  refOf: (id: unknown) => ActorRefFrom<HandleMachine>;
  /** The handle and its descendants, deepest first. */
  subtree: (id: string) => string[];
  /** Who a stop of the handle reaches: it and its descendants, down to the children that detach. */
  stopReach: HandleApi['stopReach'];
  /** Throws once the runtime is shut down. */
  ensureRunning: () => void;
  /** Drops a forgotten handle's actor reference. */
  forgotten: (id: string) => void;
  /** The public view of a handle's snapshot. */
  toHandleSnapshot: (snapshot: HandleActorSnapshot) => HandleSnapshot;
}

/**
 * The commands on a handle (interrupt, cancel, close, resume, forget): the
 * supervisor cascades them down the subtree, passing by the children that
 * detach (and theirs); each chart decides what it takes, and what it hands
 * back is read from its context.
 */
export function createCommands({ actor, refOf: requireRef, subtree, stopReach, ensureRunning, forgotten, toHandleSnapshot }: CommandDeps): Pick<HandleApi, 'interrupt' | 'cancel' | 'close' | 'resume' | 'forget'> & { stopChildren(id: string): void } {
  const snapshotOf = (id: string) => toHandleSnapshot(requireRef(id).getSnapshot());

  /** Sends the command down the subtree (to whom the supervisor's cascade sends it); returns the handles whose chart takes it. */
  function command(id: string, type: CascadingCommand, targets = stopReach(id).stopped): Set<string> {
    // Only handles whose chart takes the command report what they hand back.
    const applies = new Set(targets.filter((target) => requireRef(target).getSnapshot().can({ type })));
    actor.send({ type: 'HANDLE.COMMAND', id, command: type, cascade: true });
    return applies;
  }

  const returnedOf = (id: string, applied: Set<string>): string[] =>
    applied.has(id) ? requireRef(id).getSnapshot().context.inputs.returned.map((input: QueuedInput) => input.message) : [];

  return {
    interrupt(id) {
      const ref = requireRef(id);
      // Nothing to hand back, so nothing to look at before: the run is aborted as soon as the chart takes the event.
      // A handle whose stop reaches no other is told directly; a subtree goes through the supervisor's cascade.
      const reach = stopReach(id);
      if (reach.stopped.length === 1 && reach.detached.length === 0) ref.send({ type: 'RUN.INTERRUPT' });
      else actor.send({ type: 'HANDLE.COMMAND', id, command: 'RUN.INTERRUPT', cascade: true });
      return snapshotOf(id);
    },
    cancel(id) {
      requireRef(id);
      const reached = stopReach(id).stopped;
      const applied = command(id, 'RUN.CANCEL', reached);
      const descendants = reached.filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        discarded: returnedOf(id, applied),
        descendants: descendants.map((other) => ({ id: other, discarded: returnedOf(other, applied) })),
      };
    },
    close(id) {
      requireRef(id);
      const reached = stopReach(id).stopped;
      const before = new Map(reached.map((other) => [other, statusOf(requireRef(other).getSnapshot())]));
      const applied = command(id, 'HANDLE.CLOSE', reached);
      const descendants = [...before.keys()].filter((other) => other !== id);
      return {
        handle: snapshotOf(id),
        previousStatus: before.get(id) ?? 'closed',
        unprocessed: returnedOf(id, applied),
        descendants: descendants.map((other) => ({ id: other, previousStatus: before.get(other) ?? 'closed', unprocessed: returnedOf(other, applied) })),
      };
    },
    resume(id) {
      ensureRunning();
      const ref = requireRef(id);
      if (!ref.getSnapshot().can({ type: 'HANDLE.RESUME' })) throw new HandleStateError(id, 'a closed or interrupted handle', statusOf(ref.getSnapshot()));
      ref.send({ type: 'HANDLE.RESUME' });
      return snapshotOf(id);
    },
    /** Cancels a handle's open children but those that detach, and so their subtrees (a run stopped at its budget). */
    stopChildren(id: string): void {
      for (const child of subtree(id)) {
        const snapshot = requireRef(child).getSnapshot();
        if (child === id || snapshot.context.spec.parentId !== id || snapshot.context.spec.onParentStop === 'detach' || !snapshot.can({ type: 'RUN.CANCEL' })) continue;
        actor.send({ type: 'HANDLE.COMMAND', id: child, command: 'RUN.CANCEL', cascade: true });
      }
    },
    forget(id) {
      requireRef(id);
      const ids = subtree(id);
      for (const other of ids) {
        const status = statusOf(requireRef(other).getSnapshot());
        if (status !== 'closed') {
          throw new BadArgumentError('id', `a closed handle whose descendants are closed (\`${other}\` is ${status}; close(\`${id}\`) first)`, id);
        }
      }
      actor.send({ type: 'HANDLE.FORGET', id });
      for (const other of ids) forgotten(other);
      return ids;
    },
  };
}
