import type { ActorRefFrom } from 'xstate';
import type { HandleEmitted, HandleMachine } from '../machines/handle.js';
import type { EventHub } from './events.js';
import type { ShutdownResult } from './runtime-types.js';
import { refOf } from './snapshot.js';
import type { HandleActorSnapshot } from './snapshot.js';
import type { HandleSnapshot } from '../types.js';
import type { Waiters } from './waiters.js';

/**
 * Turns what a handle's chart emits into runtime events and wakes its
 * waiters: nothing is derived beside the chart. While shutting down it also
 * collects the inputs each handle hands back.
 */
export function createRelay(hub: EventHub, waiters: Waiters, toHandleSnapshot: (snapshot: HandleActorSnapshot) => HandleSnapshot) {
  let handedBack: Map<string, string[]> | null = null;

  function relay(ref: ActorRefFrom<HandleMachine>, event: HandleEmitted): void {
    switch (event.type) {
      case 'status':
        waiters.notify(ref.getSnapshot().context.spec.id, event.status === 'running');
        if (hub.wants('handle-update')) {
          const snapshot = ref.getSnapshot();
          hub.emit({ type: 'handle-update', ...refOf(snapshot), handle: toHandleSnapshot(snapshot) });
        }
        return;
      case 'run-start':
        if (hub.wants('run-start')) hub.emit({ type: 'run-start', ...refOf(ref.getSnapshot()), runId: event.runId, input: event.input.message });
        return;
      case 'run-end': {
        if (!hub.wants('run-end')) return;
        const { type: _type, input: _input, ...report } = event;
        hub.emit({ type: 'run-end', ...refOf(ref.getSnapshot()), ...report });
        return;
      }
      case 'input-end':
        if (event.handedBack && handedBack) {
          const id = ref.getSnapshot().context.spec.id;
          const list = handedBack.get(id) ?? [];
          list.push(event.input.message);
          handedBack.set(id, list);
        }
        if (hub.wants('input-end')) {
          hub.emit({
            type: 'input-end',
            ...refOf(ref.getSnapshot()),
            input: event.input.message,
            handedBack: event.handedBack,
            outcome: event.run?.outcome ?? null,
            runId: event.run?.runId ?? null,
          });
        }
        return;
    }
  }

  return {
    relay,
    /** From now on, inputs handed back are collected (shutdown). */
    collectHandedBack(): void {
      handedBack = new Map();
    },
    /** What was collected, per handle; collecting stops. */
    takeHandedBack(): ShutdownResult['unprocessed'] {
      const unprocessed = [...(handedBack ?? [])].map(([handleId, inputs]) => ({ handleId, inputs }));
      handedBack = null;
      return unprocessed;
    },
  };
}
