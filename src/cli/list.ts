/**
 * `subagents list --store <dir>`: the tree a store holds, each handle's
 * status and queue, and the background deliveries not yet acknowledged,
 * read without taking the store's lock (a running process may hold it).
 */
import { existsSync } from 'node:fs';
import { readFileStore } from '../store/index.js';
import { HANDLES } from '../runtime/durable-handles.js';
import type { StoredHandle } from '../runtime/durable-handles.js';
import { OUTBOX } from '../delegation/inbox.js';
import type { Delivery } from '../delegation/inbox.js';
import { storedDelegations } from '../delegation/durable-delegations.js';
import { UsageError } from './args.js';

const statusOf = (state: StoredHandle['state']): string =>
  typeof state === 'string' ? state : JSON.stringify(state).includes('awaitingSlot') ? 'running (waiting for a slot)' : 'running (lost on restart when restored)';

/** The listing, as lines of text. */
export function listStore(directory: string): string {
  if (!existsSync(directory)) throw new UsageError(`Expected \`--store\` to name a store directory, got \`${directory}\`, which does not exist`);
  const contents = readFileStore(directory);
  const handles = [...((contents.get(HANDLES)?.values() ?? []) as Iterable<StoredHandle>)].sort((a, b) => a.order - b.order);
  const children = new Map<string | null, StoredHandle[]>();
  for (const handle of handles) {
    const parent = handle.context.spec.parentId;
    children.set(parent, [...(children.get(parent) ?? []), handle]);
  }
  const lines: string[] = [`store ${directory}: ${handles.length} handle${handles.length === 1 ? '' : 's'}`];
  const walk = (parent: string | null, indent: string) => {
    for (const { state, context } of children.get(parent) ?? []) {
      const queued = context.inputs.queue.length > 0 ? `, ${context.inputs.queue.length} queued` : '';
      const goal = context.spec.goal ? ` — ${context.spec.goal.slice(0, 60)}` : '';
      lines.push(`${indent}${context.spec.id} [${statusOf(state)}${queued}, ${context.results.runsEnded} runs]${goal}`);
      walk(context.spec.id, `${indent}  `);
    }
  };
  walk(null, '  ');
  const delegations = storedDelegations(contents);
  const open = delegations.filter((delegation) => delegation.outcome === null);
  lines.push(`delegations: ${delegations.length} (${open.length} unfinished)`);
  for (const delegation of open) lines.push(`  ${delegation.id} from ${delegation.parentId ?? 'the root agent'}: ${delegation.ends.filter(Boolean).length}/${delegation.handleIds.length} tasks ended`);
  const deliveries = [...((contents.get(OUTBOX)?.values() ?? []) as Iterable<Delivery>)].filter((delivery) => delivery.state !== 'acknowledged');
  lines.push(`pending deliveries: ${deliveries.length}`);
  for (const delivery of deliveries) lines.push(`  ${delivery.delegationId} → ${delivery.agent} (${delivery.state})`);
  return `${lines.join('\n')}\n`;
}
