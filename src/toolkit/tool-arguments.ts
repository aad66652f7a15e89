/** What a model sends a tool and what the tool answers, as text: arguments parsed against the schema, results made a string. */
import { inspect } from 'node:util';
import { z } from 'zod';
import { describeValue } from '../errors.js';
import type { JsonSchema, Tool, ToolParameters } from './define-tool.js';

/** The outcome of {@link parseToolArguments}. */
export type ParsedToolArguments<TArgs> = { ok: true; args: TArgs } | { ok: false; error: string };

/**
 * Parses the JSON arguments of a tool call. On failure the error is written
 * for the model: each bad field by path, what was expected and what came, so
 * it can correct the call. An empty string counts as `{}` (some servers send
 * it for tools without parameters).
 *
 * @example
 * ```ts
 * const parsed = parseToolArguments(readFile, call.function.arguments);
 * const result = parsed.ok ? await readFile.execute(parsed.args, context) : parsed.error;
 * ```
 */
export function parseToolArguments<TParameters extends ToolParameters>(
  tool: Tool<TParameters, unknown>,
  argumentsJson: string,
): ParsedToolArguments<z.output<TParameters>> {
  let raw: unknown;
  try {
    raw = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: `Invalid arguments for \`${tool.name}\`: arguments are not valid JSON: ${reason}. Send one JSON object matching the tool's parameters.`,
    };
  }
  let result: z.ZodSafeParseResult<z.output<TParameters>>;
  try {
    result = tool.parameters.safeParse(raw);
  } catch (error) {
    // A refinement or transform that throws (or is async) must not crash the agent loop.
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `Invalid arguments for \`${tool.name}\`: validation failed: ${reason}` };
  }
  const problems = new Map<string, string>();
  for (const [path, problem] of findUnknownFields(tool.jsonSchema, tool.jsonSchema, raw, [])) problems.set(path, problem);
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const [path, problem] of describeIssue(issue, raw)) if (!problems.has(path)) problems.set(path, problem);
    }
  }
  if (result.success && problems.size === 0) return { ok: true, args: result.data };
  const lines = [...problems].map(([path, problem]) => `- \`${path}\`: ${problem}`);
  return {
    ok: false,
    error: `Invalid arguments for \`${tool.name}\`:\n${lines.join('\n')}\nFix these fields and call the tool again.`,
  };
}

type PathSegment = PropertyKey;

/** How the arguments object itself is named in error messages. */
const ROOT_PATH = '(arguments)';

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): Array<[string, string]> {
  const received = valueAt(raw, issue.path);
  const got = received === undefined ? 'got nothing (the field is missing)' : `got ${describeValue(received)}`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => [formatPath([...issue.path, key]), 'unknown field; remove it']);
    case 'invalid_type':
      return [[formatPath(issue.path), `expected ${issue.expected === 'int' ? 'integer' : issue.expected}, ${got}`]];
    case 'invalid_value':
      return [[formatPath(issue.path), `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}, ${got}`]];
    case 'invalid_union': {
      // Each branch's issues are relative to the union's value: describe them from there.
      const forms = issue.errors.map((branch, index) => {
        const problems = branch.flatMap((inner) => describeIssue(inner, received));
        const text = problems.map(([path, problem]) => (path === ROOT_PATH ? problem : `\`${path}\`: ${problem}`));
        return `form ${index + 1}: ${text.join('; ')}`;
      });
      if (forms.length === 0) return [[formatPath(issue.path), `${issue.message}; ${got}`]];
      return [[formatPath(issue.path), `matches none of the allowed forms (${forms.join(' | ')})`]];
    }
    default:
      return [[formatPath(issue.path), `${issue.message}; ${got}`]];
  }
}

/** Unknown fields in objects the schema closes; zod itself would silently drop them. */
function findUnknownFields(root: JsonSchema, node: unknown, value: unknown, path: PathSegment[]): Array<[string, string]> {
  const schema = resolveLocalRef(root, node);
  if (!isRecord(schema)) return [];
  if (Array.isArray(value)) {
    return isRecord(schema.items) ? value.flatMap((item, index) => findUnknownFields(root, schema.items, item, [...path, index])) : [];
  }
  if (!isRecord(value)) return [];
  const branches = [...asArray(schema.anyOf), ...asArray(schema.oneOf)].filter((branch) => {
    const resolved = resolveLocalRef(root, branch);
    return isRecord(resolved) && resolved.type === 'object';
  });
  if (branches.length === 1) return findUnknownFields(root, branches[0], value, path);
  if (!isRecord(schema.properties)) return [];
  const properties = schema.properties;
  const allowed = Object.keys(properties);
  return Object.keys(value).flatMap((key): Array<[string, string]> => {
    if (Object.hasOwn(properties, key)) return findUnknownFields(root, properties[key], value[key], [...path, key]);
    if (schema.additionalProperties !== false) return [];
    const hint = allowed.length === 0 ? 'this object takes no fields' : `allowed fields: ${allowed.join(', ')}`;
    return [[formatPath([...path, key]), `unknown field; remove it (${hint})`]];
  });
}

function resolveLocalRef(root: JsonSchema, node: unknown): unknown {
  if (!isRecord(node) || typeof node.$ref !== 'string') return node;
  if (node.$ref === '#') return root;
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(node.$ref);
  const definitions = match ? root[match[1] as string] : undefined;
  return match && isRecord(definitions) ? definitions[match[2] as string] : undefined;
}

function valueAt(value: unknown, path: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (!isRecord(current) && !Array.isArray(current)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return ROOT_PATH;
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Turns a tool's result into the text the model reads: strings as they are,
 * `undefined` as an empty string, errors as `Name: message`, anything else as
 * JSON (with bigints as strings; Node's `inspect` text when JSON cannot hold it).
 *
 * @example
 * ```ts
 * toolResultToString('done'); // 'done'
 * toolResultToString({ files: 2 }); // '{"files":2}'
 * ```
 */
export function toolResultToString(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '';
  if (result instanceof Error) return `${result.name}: ${result.message}`;
  try {
    const json = JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    // undefined for functions and symbols, which JSON cannot hold.
    return json ?? inspect(result);
  } catch {
    // Circular structures: Node's inspector marks the cycles instead of failing.
    return inspect(result, { depth: 4, breakLength: Infinity });
  }
}
