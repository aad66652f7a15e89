import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCRIPTED_MODEL_NAME, startScriptedModel, surveyScript } from '../../src/cli/scripted-model.js';
import { SURVEY_TASKS } from '../../src/cli/survey.js';
import { createRuntime } from '../../src/agent/create-runtime.js';
import type { SubagentsRuntime } from '../../src/agent/create-runtime.js';
import type { FakeServer, RecordedRequest } from '../../src/testing/index.js';
import { createFileTools } from '../../src/toolkit/file-tools.js';
import { createProjectFixture } from './fixture.js';

let fixture: ReturnType<typeof createProjectFixture>;
let model: FakeServer | undefined;
let runtime: SubagentsRuntime | undefined;

beforeEach(() => {
  fixture = createProjectFixture();
});
afterEach(async () => {
  await runtime?.shutdown();
  await model?.close();
  fixture.remove();
});

/** A request as the fake server records it, for calling the script directly. */
function request(messages: RecordedRequest['body']['messages'], tools: string[]): RecordedRequest {
  return {
    index: 0,
    body: { model: SCRIPTED_MODEL_NAME, messages, tools: tools.map((name) => ({ type: 'function', function: { name } })) },
    headers: {},
    receivedAt: 0,
    aborted: false,
    abortedAt: null,
    completed: false,
    scriptError: null,
  };
}

describe('the scripted survey model', () => {
  it('runs each subagent on the real file tools and summarises their real output', async () => {
    model = await startScriptedModel({ projectName: 'fixture-project', delayMs: 0 });
    const files = createFileTools({ root: fixture.dir });
    runtime = createRuntime({
      client: new OpenAI({ baseURL: model.url, apiKey: 'scripted', maxRetries: 0 }),
      model: SCRIPTED_MODEL_NAME,
      tools: files.tools,
      cwd: fixture.dir,
    });
    const outcome = await runtime.delegate({ tasks: SURVEY_TASKS.map((task) => ({ goal: task.goal, toolsets: task.toolsets })) }).result;
    expect(outcome.results.map((result) => result.status)).toEqual(['completed', 'completed', 'completed']);
    const [mapping, markers, docs] = outcome.results.map((result) => result.summary);
    expect(mapping).toBe(
      'The project root has 2 files (README.md and package.json) and 2 directories (docs and src). ' +
        '`src` holds 2 files in 1 subdirectory; by extension: .ts 2. Largest: src/index.ts (75 bytes), src/util/helpers.ts (45 bytes).',
    );
    expect(markers).toBe(
      'I searched `src` (2 files). TODO/FIXME markers: 2 in 2 files, the first at src/index.ts:5 ("// TODO: three"). ' +
        'Lines starting with `export`: 3 in 2 files; the most in src/index.ts (2). Examples: src/index.ts:1 "export const one = 1;"; ' +
        'src/index.ts:2 "export function two() {"; src/util/helpers.ts:1 "export const helper = true;".',
    );
    expect(docs).toBe(
      'README.md (7 lines) is titled "Fixture project" and begins: "A tiny project for the demo tests.". ' +
        'package.json: fixture-project@1.2.3 ("A fixture."), 1 dependency and 2 dev dependencies; scripts: build and test.',
    );
    expect(outcome.results.map((result) => result.toolTrace.map((entry) => entry.tool))).toEqual([
      ['list_files', 'list_files'],
      ['list_files', 'search_files', 'search_files'],
      ['list_files', 'read_file', 'read_file'],
    ]);
    expect(outcome.results.every((result) => result.toolTrace.every((entry) => entry.ok))).toBe(true);
  });

  it('has the parent delegate the three survey tasks, then answer from the delegation result', async () => {
    const script = surveyScript({ projectName: 'fixture-project', delayMs: 0 });
    const first = await script(request([{ role: 'system', content: 'You are the root agent.' }, { role: 'user', content: 'Survey.' }], ['delegate_task']));
    const call = 'toolCalls' in first ? first.toolCalls?.[0] : undefined;
    expect(call?.name).toBe('delegate_task');
    const args = call?.arguments as { tasks: Array<{ goal: string; toolsets: string[]; context: string }> };
    expect(args.tasks.map((task) => task.goal)).toEqual(SURVEY_TASKS.map((task) => task.goal));
    expect(args.tasks[0]?.context).toContain('`fixture-project`');

    const result = JSON.stringify({
      ok: true,
      results: [
        { task: 0, status: 'completed', summary: 'The root has 2 files (README.md and package.json). More detail. Even more.' },
        { task: 1, status: 'error', summary: 'Searching failed.' },
        { task: 2, status: 'completed', summary: 'README.md is titled "Fixture".' },
      ],
    });
    const last = await script(
      request(
        [
          { role: 'system', content: 'You are the root agent.' },
          { role: 'user', content: 'Survey.' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'delegate_task', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: result },
        ],
        ['delegate_task'],
      ),
    );
    expect('content' in last ? last.content : null).toBe(
      [
        'Survey done: 2 of 3 subagents completed. What they found:',
        '1. Map the files (completed): The root has 2 files (README.md and package.json). More detail.',
        '2. Find markers and exports (error): Searching failed.',
        '3. Read the docs (completed): README.md is titled "Fixture".',
      ].join('\n'),
    );
  });

  it('says so instead of pretending when it is not offered delegate_task', async () => {
    const script = surveyScript({ projectName: 'p', delayMs: 0 });
    const answer = await script(request([{ role: 'system', content: 'You are the root agent.' }, { role: 'user', content: 'Survey.' }], []));
    expect('content' in answer ? answer.content : '').toMatch(/cannot delegate/);
  });
});
