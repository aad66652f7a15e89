/**
 * Each delegation of a session as an MCP resource,
 * `subagents://delegations/{id}`: what it was asked, where its subagents are,
 * and its combined result once every task ended. Subscribers are told when
 * it changes. The handles' state is read from the runtime at each read; this
 * keeps only which delegation owns which handles, and the final outcome.
 */
import { delegationOutcomeView } from '../agent-tools/delegate-task.js';
import type { Delegation, DelegationOutcome } from '../delegation/delegation-types.js';
import type { RuntimeEvent } from '../runtime/events.js';
import type { HandleSnapshot } from '../types.js';

/** The URI scheme and path of delegation resources. */
export const DELEGATION_URI_PREFIX = 'subagents://delegations/';
/** The resource template clients are given. */
export const DELEGATION_URI_TEMPLATE = `${DELEGATION_URI_PREFIX}{id}`;
/** Delegations a session keeps readable: the oldest finished one goes past this. */
const KEPT_DELEGATIONS = 1_000;

/** What the registry reads from the runtime. */
export interface DelegationsRuntime {
  get(id: string): HandleSnapshot;
}

interface Entry {
  uri: string;
  delegationId: string;
  background: boolean;
  handleIds: string[];
  goals: Array<string | null>;
  startedAt: string;
  outcome: DelegationOutcome | null;
}

/** The URI of a delegation. */
export const delegationUri = (delegationId: string) => `${DELEGATION_URI_PREFIX}${encodeURIComponent(delegationId)}`;

/** One session's delegations, their subscribers, and the notifications they are owed. */
export class DelegationResources {
  readonly #entries = new Map<string, Entry>();
  readonly #byHandle = new Map<string, Entry>();
  readonly #subscribed = new Set<string>();

  constructor(
    private readonly runtime: DelegationsRuntime,
    /** Tells the client that a subscribed resource changed. */
    private readonly updated: (uri: string) => void,
    /** Tells the client that the list of resources changed. */
    private readonly listChanged: () => void,
  ) {}

  /** Registers a delegation the session just started; its outcome is recorded when it resolves. */
  add(delegation: Delegation, background: boolean): string {
    const uri = delegationUri(delegation.delegationId);
    const goals = delegation.handleIds.map((id) => this.#goalOf(id));
    const entry: Entry = {
      uri,
      delegationId: delegation.delegationId,
      background,
      handleIds: [...delegation.handleIds],
      goals,
      startedAt: new Date().toISOString(),
      outcome: null,
    };
    this.#entries.set(uri, entry);
    for (const id of entry.handleIds) this.#byHandle.set(id, entry);
    this.#trim();
    void delegation.result.then((outcome) => {
      entry.outcome = outcome;
      this.#changed(entry);
    });
    this.listChanged();
    return uri;
  }

  /** Feeds a runtime event: a status change of a delegation's subagent changes its resource. */
  observe(event: RuntimeEvent): void {
    if (event.type !== 'handle-update') return;
    const entry = this.#byHandle.get(event.handleId);
    if (entry && entry.outcome === null) this.#changed(entry);
  }

  has(uri: string): boolean {
    return this.#entries.has(uri);
  }

  /** Every delegation of the session, oldest first. */
  list(): Array<{ uri: string; name: string; description: string; mimeType: string }> {
    return [...this.#entries.values()].map((entry) => ({
      uri: entry.uri,
      name: `delegation ${entry.delegationId}`,
      description: `${entry.outcome ? 'done' : 'running'}: ${entry.goals.map((goal) => goal ?? '(no goal)').join(' | ').slice(0, 300)}`,
      mimeType: 'application/json',
    }));
  }

  /** The resource's JSON text, or `null` for a URI the session does not know. */
  read(uri: string): string | null {
    const entry = this.#entries.get(uri);
    if (!entry) return null;
    const tasks = entry.handleIds.map((handleId, index) => {
      const handle = this.#snapshot(handleId);
      return {
        task: index,
        handleId,
        goal: entry.goals[index] ?? null,
        status: handle?.status ?? 'forgotten',
        lastOutcome: handle?.lastOutcome ?? null,
        waitingForSlot: handle?.waitingForSlot ?? false,
      };
    });
    const view = {
      uri: entry.uri,
      delegationId: entry.delegationId,
      background: entry.background,
      status: entry.outcome ? 'done' : 'running',
      startedAt: entry.startedAt,
      tasks,
      results: entry.outcome ? delegationOutcomeView(entry.outcome).results : null,
    };
    return JSON.stringify(view, null, 2);
  }

  subscribe(uri: string): void {
    this.#subscribed.add(uri);
  }

  unsubscribe(uri: string): void {
    this.#subscribed.delete(uri);
  }

  #changed(entry: Entry): void {
    if (this.#subscribed.has(entry.uri)) this.updated(entry.uri);
  }

  #goalOf(id: string): string | null {
    return this.#snapshot(id)?.goal ?? null;
  }

  #snapshot(id: string): HandleSnapshot | null {
    try {
      return this.runtime.get(id);
    } catch {
      // Forgotten, or the runtime is shut down.
      return null;
    }
  }

  /** Drops the oldest finished delegations past the limit; running ones always stay. */
  #trim(): void {
    if (this.#entries.size <= KEPT_DELEGATIONS) return;
    for (const entry of this.#entries.values()) {
      if (this.#entries.size <= KEPT_DELEGATIONS) return;
      if (entry.outcome === null) continue;
      this.#entries.delete(entry.uri);
      this.#subscribed.delete(entry.uri);
      for (const id of entry.handleIds) if (this.#byHandle.get(id) === entry) this.#byHandle.delete(id);
    }
  }
}
