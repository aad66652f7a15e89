/**
 * Summarises a `.cpuprofile` by self time: per package (xstate, this
 * library, openai, zod, GC, node internals, …; a builtin counts for the
 * package that called it) and the top functions.
 * `node dist-bench/bench/profile-summary.js <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a frame belongs to. */
export function packageOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program (VM, not JS)';
  if (url === '') return 'native / builtins';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (module) return module;
  if (url.startsWith('node:')) return 'node internals';
  if (/\/(src)\//.test(url)) return 'subagents (library)';
  if (/\/bench\//.test(url)) return 'bench harness';
  return 'other';
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('profile-summary: expected a .cpuprofile path');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
/** A builtin without a URL (JSON.parse, a RegExp, Map#set) counts for the package of its nearest caller with one. */
function ownerOf(id: number): string {
  const { functionName, url } = byId.get(id)!.callFrame;
  const own = packageOf(url, functionName);
  if (own !== 'native / builtins') return own;
  for (let parent = parentOf.get(id); parent !== undefined; parent = parentOf.get(parent)) {
    const frame = byId.get(parent)!.callFrame;
    if (frame.url !== '') return packageOf(frame.url, frame.functionName);
  }
  return own;
}
const selfUs = new Map<number, number>();
for (const [index, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
let busy = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const pkg = ownerOf(id);
  total += us;
  if (pkg !== 'idle') busy += us;
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  const where = url ? `${url.replace(/^.*?(node_modules\/|dist-bench\/)/, '')}:${lineNumber + 1}` : '';
  // A builtin is listed under its caller's package, named as itself.
  const key = `${functionName || '(anonymous)'} ${where} [${pkg}]`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const share = (us: number) => `${((us / busy) * 100).toFixed(1)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
console.log(`${file}: ${ms(total)} sampled, ${ms(busy)} not idle (shares below are of the not-idle time)\n`);
console.log('| package | self time | share |\n| --- | --- | --- |');
for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1])) if (pkg !== 'idle') console.log(`| ${pkg} | ${ms(us)} | ${share(us)} |`);
console.log(`\n| top functions by self time | self | share |\n| --- | --- | --- |`);
const ranked = [...byFunction].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
for (const [key, us] of ranked.slice(0, top)) console.log(`| ${key} | ${ms(us)} | ${share(us)} |`);
for (const pkg of ['subagents (library)', 'xstate']) {
  console.log(`\n| top functions of ${pkg} (builtins it calls included) | self | share |\n| --- | --- | --- |`);
  for (const [key, us] of ranked.filter(([name]) => name.endsWith(`[${pkg}]`)).slice(0, 20)) console.log(`| ${key} | ${ms(us)} | ${share(us)} |`);
}
