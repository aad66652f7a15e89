import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { BadArgumentError } from '../../src/errors.js';
import {
  type AnyTool,
  type ToolContext,
  allowsOpenAIStrictMode,
  defineTool,
  toOpenAITool,
} from '../../src/toolkit/define-tool.js';
import { parseToolArguments, toolResultToString } from '../../src/toolkit/tool-arguments.js';

const context: ToolContext = { signal: new AbortController().signal, handleId: null, depth: 0, cwd: process.cwd() };

const readFile = defineTool({
  name: 'read_file',
  toolset: 'read',
  description: 'Read a file.',
  parameters: z.object({
    path: z.string().describe('Path to read'),
    limit: z.number().int().min(1),
  }),
  execute: ({ path, limit }) => `${path}:${limit}`,
});

describe('defineTool', () => {
  it('returns a tool whose execute receives the typed arguments and the context', async () => {
    const tool = defineTool({
      name: 'echo',
      toolset: 'misc',
      description: 'Echo.',
      parameters: z.object({ text: z.string() }),
      execute: ({ text }, { depth, handleId }) => ({ text, depth, handleId }),
    });
    expect(await tool.execute({ text: 'hi' }, { ...context, depth: 2, handleId: 'h1' })).toEqual({
      text: 'hi',
      depth: 2,
      handleId: 'h1',
    });
  });

  it('rejects a name the model API would refuse, saying what was expected and what came', () => {
    const define = (name: string) => () =>
      defineTool({ name, toolset: 'misc', description: 'x', parameters: z.object({}), execute: () => null });
    expect(define('read file')).toThrow(BadArgumentError);
    expect(define('read file')).toThrow(/Expected `name` to be a tool name matching .*got string `read file`/);
    expect(define('')).toThrow(BadArgumentError);
    expect(define('a'.repeat(65))).toThrow(BadArgumentError);
    expect(define('a'.repeat(64))).not.toThrow();
  });

  it('rejects an empty description, a bad toolset, a non-object schema and a missing execute', () => {
    const base = { name: 't', toolset: 'misc', description: 'd', parameters: z.object({}), execute: () => null };
    expect(() => defineTool({ ...base, description: '  ' })).toThrow(/description of tool `t`/);
    expect(() => defineTool({ ...base, toolset: 'has space' })).toThrow(/toolset of tool `t`/);
    expect(() => defineTool({ ...base, parameters: z.string() as unknown as z.ZodObject })).toThrow(
      /parameters of tool `t`.*zod object schema/,
    );
    expect(() => defineTool({ ...base, execute: undefined as unknown as () => null })).toThrow(/execute of tool `t`/);
  });

  it('a zod 3 schema is refused with the word that tool schemas are zod 4', () => {
    const base = { name: 't', toolset: 'misc', description: 'd', execute: () => null };
    const zod3 = z3.object({ path: z3.string() }) as unknown as z.ZodObject;
    let error: unknown;
    try {
      defineTool({ ...base, parameters: zod3 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BadArgumentError);
    expect((error as Error).message).toBe(
      "Expected `parameters of tool `t`` to be a zod 4 object schema (tool schemas are zod 4: z.object({…}) from `import { z } from 'zod'` with zod 4 installed, or from 'zod/v4'), got a zod 3 schema (ZodObject)",
    );
    expect(error).toMatchObject({ received: 'a zod 3 schema (ZodObject)' });
    // A zod 4 schema of the wrong kind is named as such.
    expect(() => defineTool({ ...base, parameters: z.string() as unknown as z.ZodObject })).toThrow(/zod object schema \(z\.object\(\{…\}\)\), got a zod 4 string schema$/);
  });

  it('rejects at definition time a schema that JSON Schema cannot represent', () => {
    expect(() =>
      defineTool({
        name: 'when',
        toolset: 'misc',
        description: 'd',
        parameters: z.object({ at: z.bigint() }),
        execute: () => null,
      }),
    ).toThrow(/parameters of tool `when`.*JSON Schema can represent.*BigInt/);
  });

  it('accepts tools of different parameters in one AnyTool array', () => {
    const other = defineTool({
      name: 'count',
      toolset: 'misc',
      description: 'd',
      parameters: z.strictObject({ n: z.number() }),
      execute: ({ n }) => n + 1,
    });
    const tools: AnyTool[] = [readFile, other];
    expect(tools.map((tool) => tool.name)).toEqual(['read_file', 'count']);
  });
});

describe('toOpenAITool', () => {
  it('turns a fully required object into a strict function definition', () => {
    expect(toOpenAITool(readFile)).toEqual({
      type: 'function',
      function: {
        name: 'read_file',
        description: 'Read a file.',
        strict: true,
        parameters: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'Path to read' },
            limit: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          },
          required: ['path', 'limit'],
          additionalProperties: false,
        },
      },
    });
  });

  it('leaves strict off when a field is optional or has a default', () => {
    const optional = defineTool({
      name: 'list',
      toolset: 'read',
      description: 'd',
      parameters: z.object({ dir: z.string(), depth: z.number().optional(), all: z.boolean().default(false) }),
      execute: () => null,
    });
    const definition = toOpenAITool(optional);
    expect(definition.function).not.toHaveProperty('strict');
    expect(definition.function.parameters.required).toEqual(['dir']);
  });

  it('closes nested objects and keeps nullable fields strict-compatible', () => {
    const tool = defineTool({
      name: 'batch',
      toolset: 'delegation',
      description: 'd',
      parameters: z.object({
        tasks: z.array(z.object({ goal: z.string(), context: z.string().nullable() })),
        mode: z.enum(['fast', 'slow']),
      }),
      execute: () => null,
    });
    const { parameters } = toOpenAITool(tool).function;
    expect(parameters).toMatchObject({
      properties: {
        tasks: { type: 'array', items: { additionalProperties: false, required: ['goal', 'context'] } },
        mode: { enum: ['fast', 'slow'] },
      },
    });
    expect(toOpenAITool(tool).function.strict).toBe(true);
  });

  it('leaves strict off for loose objects, records and tuples', () => {
    const make = (parameters: z.ZodObject) =>
      defineTool({ name: 'x', toolset: 'misc', description: 'd', parameters, execute: () => null });
    expect(make(z.looseObject({ a: z.string() })).strict).toBe(false);
    expect(make(z.object({ map: z.record(z.string(), z.number()) })).strict).toBe(false);
    expect(make(z.object({ pair: z.tuple([z.string(), z.number()]) })).strict).toBe(false);
    expect(make(z.object({ url: z.url() })).strict).toBe(false);
  });

  it('returns a copy of the schema, so callers cannot change the tool', () => {
    const definition = toOpenAITool(readFile);
    definition.function.parameters.type = 'changed';
    expect(readFile.jsonSchema.type).toBe('object');
  });
});

describe('allowsOpenAIStrictMode', () => {
  it('requires an object root with every property required and additionalProperties false', () => {
    const closed = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    expect(allowsOpenAIStrictMode(closed)).toBe(true);
    expect(allowsOpenAIStrictMode({ ...closed, required: [] })).toBe(false);
    expect(allowsOpenAIStrictMode({ ...closed, additionalProperties: undefined })).toBe(false);
    expect(allowsOpenAIStrictMode({ type: 'string' })).toBe(false);
    expect(allowsOpenAIStrictMode({ ...closed, allOf: [] })).toBe(false);
  });
});

describe('parseToolArguments', () => {
  it('returns the parsed arguments when they match', () => {
    expect(parseToolArguments(readFile, '{"path":"a.txt","limit":3}')).toEqual({
      ok: true,
      args: { path: 'a.txt', limit: 3 },
    });
  });

  it('names each field of the wrong type with what was expected and what came', () => {
    const result = parseToolArguments(readFile, '{"path":42,"limit":"ten"}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('`read_file`');
    expect(result.error).toContain('`path`: expected string, got number `42`');
    expect(result.error).toContain('`limit`: expected number, got string `ten`');
  });

  it('reports a missing required field as missing', () => {
    const result = parseToolArguments(readFile, '{"path":"a.txt"}');
    expect(result).toEqual({ ok: false, error: expect.stringContaining('`limit`: expected number, got nothing (the field is missing)') as unknown });
  });

  it('rejects unknown fields instead of dropping them, listing the allowed ones', () => {
    const result = parseToolArguments(readFile, '{"path":"a.txt","limit":1,"lmit":2}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('`lmit`: unknown field; remove it (allowed fields: path, limit)');
    const inherited = parseToolArguments(readFile, '{"path":"a.txt","limit":1,"toString":2}');
    expect(inherited).toEqual({ ok: false, error: expect.stringContaining('`toString`: unknown field') as unknown });
  });

  it('rejects unknown fields inside nested objects, with their path', () => {
    const batch = defineTool({
      name: 'batch',
      toolset: 'delegation',
      description: 'd',
      parameters: z.object({ tasks: z.array(z.object({ goal: z.string() })) }),
      execute: () => null,
    });
    const result = parseToolArguments(batch, '{"tasks":[{"goal":"a"},{"goal":"b","gaol":"c"}]}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('`tasks[1].gaol`: unknown field');
  });

  it('accepts extra fields on a loose object', () => {
    const loose = defineTool({
      name: 'loose',
      toolset: 'misc',
      description: 'd',
      parameters: z.looseObject({ a: z.string() }),
      execute: () => null,
    });
    expect(parseToolArguments(loose, '{"a":"x","b":1}')).toEqual({ ok: true, args: { a: 'x', b: 1 } });
  });

  it('explains input that is not JSON', () => {
    const result = parseToolArguments(readFile, '{"path": "a.txt",');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^Invalid arguments for `read_file`: arguments are not valid JSON: /);
  });

  it('reports JSON that is not an object at the root', () => {
    const result = parseToolArguments(readFile, '["a.txt"]');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('`(arguments)`: expected object, got an array of 1');
  });

  it('treats empty arguments as an empty object', () => {
    const noArgs = defineTool({ name: 'now', toolset: 'misc', description: 'd', parameters: z.object({}), execute: () => 1 });
    expect(parseToolArguments(noArgs, '')).toEqual({ ok: true, args: {} });
  });

  it('describes enum and range violations with the allowed values and the received value', () => {
    const tool = defineTool({
      name: 'pick',
      toolset: 'misc',
      description: 'd',
      parameters: z.object({ mode: z.enum(['fast', 'slow']), count: z.number().int().min(1) }),
      execute: () => null,
    });
    const result = parseToolArguments(tool, '{"mode":"medium","count":0}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('`mode`: expected one of "fast", "slow", got string `medium`');
    expect(result.error).toMatch(/`count`: .*>=1.*got number `0`/);
  });

  it('explains a union mismatch form by form', () => {
    const tool = defineTool({
      name: 'target',
      toolset: 'misc',
      description: 'd',
      parameters: z.object({ target: z.union([z.string(), z.object({ id: z.number() })]) }),
      execute: () => null,
    });
    const result = parseToolArguments(tool, '{"target":{"id":"seven"}}');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain(
      '`target`: matches none of the allowed forms (form 1: expected string, got an object | form 2: `id`: expected number, got string `seven`)',
    );
  });

  it('turns a throwing refinement into an error result instead of throwing', () => {
    const tool = defineTool({
      name: 'fragile',
      toolset: 'misc',
      description: 'd',
      parameters: z.object({ a: z.string() }).refine(() => {
        throw new Error('boom');
      }),
      execute: () => null,
    });
    expect(parseToolArguments(tool, '{"a":"x"}')).toEqual({ ok: false, error: expect.stringContaining('boom') as unknown });
  });
});

describe('toolResultToString', () => {
  it('passes strings through and JSON-stringifies other values', () => {
    expect(toolResultToString('plain text')).toBe('plain text');
    expect(toolResultToString({ files: ['a'], count: 1 })).toBe('{"files":["a"],"count":1}');
    expect(toolResultToString(42)).toBe('42');
    expect(toolResultToString(null)).toBe('null');
    expect(toolResultToString(undefined)).toBe('');
  });

  it('renders errors, bigints and circular values without throwing', () => {
    expect(toolResultToString(new TypeError('bad'))).toBe('TypeError: bad');
    expect(toolResultToString({ big: 10n })).toBe('{"big":"10"}');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(toolResultToString(circular)).toContain('[Circular');
  });
});
