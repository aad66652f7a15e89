import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of every source file, type imports included (a type import that closes a cycle is still a cycle). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) =>
      path.relative(SRC, path.resolve(path.dirname(file), match[1]!)).replace(/\.js$/, '.ts'),
    );
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

/** The cycles of a graph: its strongly connected components of more than one file, or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * The layers of `src/`, lowest first: a file may import from its own layer and
 * the layers below it, never from one above (type imports included). Files
 * directly in `src/` other than `index.ts` are the base layer; `index.ts` and
 * the CLI are the top. The test kit (`subagents/testing`) sits just below
 * them: it drives a whole runtime, and nothing in the library imports it.
 */
export const LAYERS: readonly string[] = ['base', 'machines', 'store', 'toolkit', 'model', 'runtime', 'distributed', 'delegation', 'agent-tools', 'agent', 'telemetry', 'adapters', 'mcp', 'view', 'testing', 'entry'];

/** The layer of a source file (a path relative to `src/`). */
function layerOf(file: string): string {
  const [first, ...rest] = file.split('/');
  if (rest.length === 0) return first === 'index.ts' ? 'entry' : 'base';
  if (first === 'cli') return 'entry';
  if (!LAYERS.includes(first!)) throw new Error(`\`src/${file}\` is in no layer: add its folder to LAYERS`);
  return first!;
}

/** Every import that points from a lower layer to a higher one, as `from → to`. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (LAYERS.indexOf(layerOf(target)) > LAYERS.indexOf(layerOf(file))) found.push(`${file} → ${target}`);
    }
  }
  return found.sort();
}

describe('the source tree', () => {
  it('imports point down the layers only, type imports included', () => {
    const graph = importGraph();
    expect(new Set([...graph.keys()].map(layerOf)).size).toBe(LAYERS.length);
    expect(upwardImports(graph)).toEqual([]);
  });

  it('the layer check finds an import that points up', () => {
    const graph = new Map([
      ['machines/handle.ts', ['types.ts']],
      ['model/model-loop.ts', ['toolkit/execute.ts', 'agent/create-runtime.ts']],
    ]);
    expect(upwardImports(graph)).toEqual(['model/model-loop.ts → agent/create-runtime.ts']);
  });

  it('the lifecycle spec of the test kit is independent of the chart: it imports no value from the machines', () => {
    const spec = ['testing/handle-spec.ts', 'testing/lifecycle-model.ts', 'testing/lifecycle-paths.ts'];
    const valueImports = spec.flatMap((file) =>
      [...readFileSync(path.join(SRC, file), 'utf8').matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map((match) => `${file} → ${match[1]}`),
    );
    expect(valueImports.filter((line) => line.includes('/machines/'))).toEqual([]);
    expect(valueImports.length).toBeGreaterThan(0);
  });

  it('has no import cycle, type imports included', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
