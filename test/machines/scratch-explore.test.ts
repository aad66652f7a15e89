import { it } from 'vitest';
import { buildPlan } from '../support/handle-model.js';
it('explores', () => {
  for (const L of [2, 3]) { const t0 = performance.now(); const p = buildPlan({ maxSlotRequests: L, maxQueue: 2 }); console.log(L, p.states, p.edges, p.paths.length, p.steps, performance.now() - t0); }
});
