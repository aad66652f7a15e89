/**
 * Turns a script into the reply for one request, or into a message that says
 * why there is none (sent to the client as a 500).
 */
import type { RecordedRequest, Reply, Script } from './types.js';

export type ScriptOutcome = { reply: Reply } | { error: string };

const FAULTS: ReadonlySet<string> = new Set(['status', 'cut', 'reset', 'cutMidChunk', 'slowLoris', 'malformed', 'raw', 'hang']);

export async function resolveReply(script: Script, request: RecordedRequest): Promise<ScriptOutcome> {
  if (typeof script !== 'function') {
    const reply = script[request.index];
    if (reply === undefined) {
      const scripted = script.length;
      const covered = scripted === 0 ? 'none' : scripted === 1 ? 'request #0' : `requests #0-#${scripted - 1}`;
      return {
        error:
          `fake server script exhausted: request #${request.index} has no scripted reply ` +
          `(${scripted} ${scripted === 1 ? 'reply was' : 'replies were'} scripted, for ${covered})`,
      };
    }
    return checkReply(reply, request);
  }
  let reply: Reply;
  try {
    reply = await script(request);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: `fake server script threw for request #${request.index}: ${reason}` };
  }
  return checkReply(reply, request);
}

// Scripts are user code, often untyped: check what came back at run time.
function checkReply(reply: Reply, request: RecordedRequest): ScriptOutcome {
  if (typeof reply !== 'object' || reply === null) {
    return { error: `fake server script gave request #${request.index} ${describe(reply)}, expected a Reply object` };
  }
  if (reply.fault !== undefined && !FAULTS.has(reply.fault)) {
    return {
      error: `fake server script gave request #${request.index} an unknown fault ${describe(reply.fault)}, expected one of ${[...FAULTS].join(', ')}`,
    };
  }
  return { reply };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\``;
  return `\`${String(value)}\``;
}
