/**
 * P6: event throughput. Handle transitions per second on a core runtime
 * whose run resolves at once: H handles each get R inputs up front (queued)
 * and work through them. Transitions are counted by a plain subscription on
 * every handle actor, the same in every variant; the variants add an XState
 * inspection observer, a runtime event listener, or the web view (`serveView`)
 * with no page connected, and with one connected to its live updates (a
 * server-sent events client in this process, reading every update).
 */
import { get } from 'node:http';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { handleSystemId } from '../src/machines/supervisor.js';
import { createRuntime } from '../src/agent/create-runtime.js';
import { serveView } from '../src/view/serve-view.js';
import type { ViewServer } from '../src/view/serve-view.js';
import type { Row } from './report.js';
import { formatMs, formatRatio, median } from './stats.js';

export interface EventsOptions {
  handles?: number;
  inputsPerHandle?: number;
  rounds?: number;
}

type Variant = 'plain' | 'inspect' | 'listener' | 'view' | 'view-attached';

interface Throughput {
  transitions: number;
  observed: number;
  elapsedMs: number;
  /** With the view: milliseconds to build, serialise and send the tree of every handle once (`GET /api/state`, median of 20). */
  treeMs?: number;
}

/** The median time of fetching the view's tree. */
async function treeFetchMs(view: ViewServer): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < 20; index += 1) {
    const start = performance.now();
    const response = await fetch(`http://127.0.0.1:${view.port}/api/state?token=${view.token}`);
    await response.text();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function measure(variant: Variant, handles: number, inputsPerHandle: number): Promise<Throughput> {
  const runs = handles * inputsPerHandle;
  let ended = 0;
  let observed = 0;
  let allEnded: () => void = () => {};
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  const runtime = createRuntime({
    run: async () => 'ok',
    maxConcurrentChildren: handles,
    onSubagentStop: () => {
      ended += 1;
      if (ended === runs) allEnded();
    },
    ...(variant === 'inspect' ? { inspect: (_event: InspectionEvent) => void (observed += 1) } : {}),
  });
  if (variant === 'listener') runtime.subscribe(() => void (observed += 1));
  let view: ViewServer | null = null;
  let page: ClientRequest | null = null;
  if (variant === 'view' || variant === 'view-attached') view = await serveView(runtime);
  if (view && variant === 'view-attached') {
    const { port, token } = view;
    // Connected and sent its first update before the clock starts.
    await new Promise<void>((resolve, reject) => {
      page = get(`http://127.0.0.1:${port}/api/events?token=${token}`, (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          observed += chunk.split('event: state\n').length - 1;
          resolve();
        });
      });
      page.on('error', reject);
    });
  }
  const ids = Array.from({ length: handles }, () => runtime.spawn().id);
  let transitions = 0;
  // Handle actors are registered in the supervisor's actor system by key (0, 1, …).
  const children = Array.from({ length: handles }, (_, key) => runtime.actor.system.get(handleSystemId(String(key))) as AnyActorRef | undefined);
  if (children.some((child) => child === undefined)) throw new Error(`P6: expected ${handles} handle actors in the supervisor's system`);
  for (const child of children) child?.subscribe(() => void (transitions += 1));
  const start = performance.now();
  for (let input = 0; input < inputsPerHandle; input += 1) {
    for (const id of ids) runtime.send(id, `input ${input}`);
  }
  await done;
  const elapsedMs = performance.now() - start;
  (page as ClientRequest | null)?.destroy();
  const treeMs = view ? await treeFetchMs(view) : undefined;
  await view?.close();
  await runtime.shutdown();
  return { transitions, observed, elapsedMs, ...(treeMs === undefined ? {} : { treeMs }) };
}

const rate = (throughput: Throughput) => throughput.transitions / (throughput.elapsedMs / 1000);
const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

export async function benchEvents(options: EventsOptions = {}): Promise<Row[]> {
  const handles = options.handles ?? 100;
  const inputsPerHandle = options.inputsPerHandle ?? 50;
  const rounds = options.rounds ?? 5;
  const variants: Variant[] = ['plain', 'inspect', 'listener', 'view', 'view-attached'];
  const results = new Map<Variant, Throughput[]>(variants.map((variant) => [variant, []]));
  await measure('plain', handles, inputsPerHandle); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    // Rotate the order so that no variant always runs first.
    for (let offset = 0; offset < variants.length; offset += 1) {
      const variant = variants[(round + offset) % variants.length]!;
      results.get(variant)!.push(await measure(variant, handles, inputsPerHandle));
    }
  }
  const medianRate = (variant: Variant) => median(results.get(variant)!.map(rate));
  const sample = (variant: Variant) => results.get(variant)![0]!;
  const plain = medianRate('plain');
  const inspected = medianRate('inspect');
  const listened = medianRate('listener');
  const viewed = medianRate('view');
  const attached = medianRate('view-attached');
  const workload = `${handles} handles × ${inputsPerHandle} queued inputs, ${sample('plain').transitions.toLocaleString('en-US')} transitions`;
  return [
    {
      id: 'P6',
      measure: `events: handle transitions per second, no inspector (${workload})`,
      value: perSecond(plain),
      target: '—',
      met: null,
      absolute: `median of ${rounds}, ${formatMs(median(results.get('plain')!.map((result) => result.elapsedMs)))} per round`,
    },
    {
      id: 'P6',
      measure: 'events: the same with an inspection observer counting events',
      value: `${perSecond(inspected)} (${formatRatio(inspected / plain)} of plain)`,
      target: '—',
      met: null,
      absolute: `${sample('inspect').observed.toLocaleString('en-US')} inspection events per round`,
    },
    {
      id: 'P6',
      measure: 'events: the same with one runtime.subscribe listener',
      value: `${perSecond(listened)} (${formatRatio(listened / plain)} of plain)`,
      target: '—',
      met: null,
      absolute: `${sample('listener').observed.toLocaleString('en-US')} runtime events per round`,
    },
    {
      id: 'P6',
      measure: 'events: the same with the web view served (serveView), no page connected',
      value: `${perSecond(viewed)} (${formatRatio(viewed / plain)} of plain)`,
      target: '—',
      met: null,
      absolute: 'the view keeps runs, logs and approvals from the events',
    },
    {
      id: 'P6',
      measure: 'events: the same with a page connected to the view’s live updates',
      value: `${perSecond(attached)} (${formatRatio(attached / plain)} of plain)`,
      target: '—',
      met: null,
      absolute: `${sample('view-attached').observed.toLocaleString('en-US')} tree updates received in the first round (at most one per 100 ms); one tree of ${handles} handles takes ${formatMs(median(results.get('view-attached')!.map((result) => result.treeMs ?? 0)))} to build and fetch`,
    },
  ];
}
