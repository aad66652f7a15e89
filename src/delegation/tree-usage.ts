import type { Usage } from '../types.js';
import { addUsage } from '../usage.js';
import { costOf } from './delegation.js';
import type { ModelPrices } from './delegation-types.js';
import type { HandleApi } from '../runtime/runtime-types.js';

/**
 * What a handle and its descendants spent (or everything, the root agent's
 * own spend included, when no id is given), read from the handles'
 * snapshots: the charts are the one place spend is kept.
 */
export function treeUsage(
  handles: Pick<HandleApi, 'get' | 'list' | 'subtree' | 'setupOf'>,
  pricesOf: (provider: string | null) => ModelPrices | undefined,
  root: { usage: Usage; model: string | null; provider: string | null },
  id?: string,
): { own: Usage; total: Usage; cost: number | null } {
  const roots = id === undefined ? handles.list({ parentId: null }).map((handle) => handle.id) : [id];
  const own = id === undefined ? { ...root.usage } : { ...handles.get(id).usage };
  const total = { ...own };
  let cost = id === undefined ? costOf(pricesOf(root.provider), root.model, root.usage) : null;
  for (const member of roots.flatMap((rootId) => handles.subtree(rootId))) {
    const handle = handles.get(member);
    if (member !== id) addUsage(total, handle.usage);
    const handleCost = costOf(pricesOf(handles.setupOf(member)?.provider ?? null), handle.model, handle.usage);
    if (handleCost !== null) cost = (cost ?? 0) + handleCost;
  }
  return { own, total, cost };
}
