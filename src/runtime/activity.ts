/**
 * What a run is doing now, kept in its journal (the chart's context) from
 * what the run reports, and the public view of it: `progress` events,
 * snapshots, the agent tools.
 */
import type { RunActivity, RunJournal } from '../machines/handle.js';
import { redactSecrets } from '../secrets.js';
import type { RunProgress } from '../types.js';
import type { RunProgressEvent } from './run-types.js';

/** Characters of the model's last text kept. */
export const TEXT_TAIL_LIMIT = 300;

/** How often `progress` events are emitted when `progressIntervalMs` is not given. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;

/** A `performance.now()` value as ISO 8601. */
const isoOf = (at: number) => new Date(performance.timeOrigin + at).toISOString();

/**
 * Notes what a run reported in its activity. The text tail is kept redacted,
 * so no view of it (events, snapshots, a timeout's error) can carry a key.
 */
export function noteActivity(activity: RunActivity, event: RunProgressEvent, secrets: readonly string[], now = performance.now()): void {
  activity.lastActivityAt = now;
  switch (event.type) {
    case 'text-delta':
      activity.textTail = redactSecrets((activity.textTail + event.delta).slice(-TEXT_TAIL_LIMIT), secrets);
      return;
    case 'tool-call-start':
      activity.currentTool = { name: event.tool, callId: event.callId, startedAt: now };
      return;
    case 'tool-call-end':
      if (activity.currentTool?.callId === event.callId) activity.currentTool = null;
      return;
    case 'model-call-end':
      activity.lastModelCallEndedAt = now;
      return;
    case 'thinking-delta':
      return;
  }
}

/** The public view of a run in flight, read from its journal. */
export function progressOf(journal: RunJournal): RunProgress {
  const { activity, stats } = journal;
  const tool = activity.currentTool;
  return {
    startedAt: isoOf(stats.startedAt),
    apiCalls: stats.apiCalls,
    usage: { ...stats.usage },
    currentTool: tool ? { name: tool.name, callId: tool.callId, startedAt: isoOf(tool.startedAt) } : null,
    lastModelCallEndedAt: activity.lastModelCallEndedAt === null ? null : isoOf(activity.lastModelCallEndedAt),
    lastActivityAt: isoOf(activity.lastActivityAt),
    textTail: activity.textTail || null,
  };
}

/** A `progress` event's timing beside the view: how long the run, and its current tool, have been going. */
export function elapsedOf(journal: RunJournal, now = performance.now()): { elapsedMs: number; toolElapsedMs: number | null } {
  const tool = journal.activity.currentTool;
  return { elapsedMs: Math.round(now - journal.stats.startedAt), toolElapsedMs: tool ? Math.round(now - tool.startedAt) : null };
}
