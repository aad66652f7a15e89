/**
 * Finds the TypeScript a user reads — the README's ```ts blocks and the
 * `@example` blocks of the TSDoc — and turns each into a file `tsc` can check.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One code block and where it was written. */
export interface CodeBlock {
  /** The file it comes from, relative to the repository root (`README.md`, `src/…`). */
  file: string;
  /** The 1-based line of the block's first code line in that file. */
  line: number;
  code: string;
  /** The words after the language in the fence (` ```ts quickstart ` → `['quickstart']`). */
  tags: string[];
}

const FENCE = /^\s*```(\S*)\s*(.*)$/;

/** The ```ts blocks of a Markdown file, except those tagged `nocheck`. */
export function markdownBlocks(markdown: string, file: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const open = FENCE.exec(lines[index] ?? '');
    if (!open) continue;
    const end = lines.findIndex((line, position) => position > index && /^\s*```\s*$/.test(line));
    if (end === -1) throw new Error(`${file}:${index + 1}: a code fence that is never closed`);
    const language = open[1] ?? '';
    if (language === 'ts' || language === 'typescript') {
      blocks.push({ file, line: index + 2, code: lines.slice(index + 1, end).join('\n'), tags: (open[2] ?? '').split(/\s+/).filter(Boolean) });
    }
    index = end;
  }
  return blocks.filter((block) => !block.tags.includes('nocheck'));
}

/** The ```ts blocks that follow an `@example` tag in the TSDoc comments of a source file. */
export function tsdocExamples(source: string, file: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = source.split('\n');
  const commentText = (line: string) => line.replace(/^\s*\*( |$)/, '');
  for (let index = 0; index < lines.length; index += 1) {
    if (!/^\s*\*\s*@example\b/.test(lines[index] ?? '')) continue;
    const open = lines.findIndex((line, position) => position > index && FENCE.test(commentText(line)));
    const end = lines.findIndex((line, position) => position > open && /^```\s*$/.test(commentText(line)));
    if (open === -1 || end === -1) throw new Error(`${file}:${index + 1}: an @example without a closed code fence`);
    const [, language = '', tags = ''] = FENCE.exec(commentText(lines[open] ?? '')) ?? [];
    if (language === 'ts' || language === 'typescript') {
      const code = lines.slice(open + 1, end).map(commentText).join('\n');
      blocks.push({ file, line: open + 2, code, tags: tags.split(/\s+/).filter(Boolean) });
    }
    index = end;
  }
  return blocks.filter((block) => !block.tags.includes('nocheck'));
}

/** Every `.ts` file under `directory`, as paths relative to `root`. */
export function sourceFiles(root: string, directory: string): string[] {
  return readdirSync(path.join(root, directory), { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('.ts'))
    .map((entry) => path.join(directory, entry))
    .sort();
}

/** The names a module exports, read from its `export` statements. */
export function exportedNames(source: string): string[] {
  const names = new Set<string>();
  for (const [, list = ''] of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const name = item.trim().split(/\s+as\s+/).at(-1)?.replace(/^type\s+/, '');
      if (name) names.add(name);
    }
  }
  for (const [, name = ''] of source.matchAll(
    /export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  )) {
    names.add(name);
  }
  return [...names];
}

/**
 * Names TSDoc examples use without declaring them, with the type a reader
 * would assume. The `$`-prefixed namespaces are imported by every checked example.
 */
const ASSUMED_VARIABLES: Record<string, string> = {
  apiKey: 'string',
  args: '{ target?: string }',
  call: '$chat.ChatCompletionMessageFunctionToolCall',
  client: '$OpenAI',
  context: '$subagents.ToolContext',
  delegateTask: '$subagents.AnyTool',
  event: '$xstate.InspectionEvent',
  goal: 'string',
  grep: '$subagents.AnyTool',
  id: 'string',
  ids: 'string[]',
  messages: '$chat.ChatCompletionMessageParam[]',
  model: 'string',
  openai: '$OpenAI',
  readFile: '$subagents.Tool<$zod.ZodObject<{ path: $zod.ZodString }>, string>',
  request: '$testing.RecordedRequest',
  reviewer: '$subagents.AgentType',
  runtime: '$subagents.SubagentsRuntime',
  server: '$testing.FakeServer',
  tools: '$subagents.AnyTool[]',
};

/** Imports examples may rely on besides the module they document and the package's own entry points. */
const WELL_KNOWN_IMPORTS: Record<string, string> = {
  OpenAI: "import OpenAI from 'openai';",
  z: "import { z } from 'zod';",
  fs: "import * as fs from 'node:fs/promises';",
  createWebSocketInspector: "import { createWebSocketInspector } from '@statelyai/inspect';",
  expect: "import { expect } from 'vitest';",
};

const HEADER = [
  "import type * as $subagents from 'subagents';",
  "import type * as $testing from 'subagents/testing';",
  "import type * as $xstate from 'xstate';",
  "import type * as $zod from 'zod';",
  "import type * as $chat from 'openai/resources/chat/completions';",
  "import type $OpenAI from 'openai';",
];

/** The names a snippet declares itself (variables, functions, classes, parameters, imports). */
function declaredNames(code: string): Set<string> {
  const declared = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node) || ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) &&
      node.name !== undefined &&
      ts.isIdentifier(node.name)
    ) {
      declared.add(node.name.text);
    }
    if (ts.isImportSpecifier(node) || ts.isNamespaceImport(node) || ts.isImportClause(node)) {
      if (node.name) declared.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true));
  return declared;
}

/** A module that exports names, and how to import from it. */
export interface ImportSource {
  specifier: string;
  names: readonly string[];
}

/**
 * A TSDoc example as a checkable module: its `import` lines first, then
 * imports of the names it uses from `sources` (first match wins), declarations
 * of the variables it assumes, and its body inside an async function (so a
 * fragment may `await` and `return`).
 *
 * @returns the text and the line of the file where the example's body starts.
 */
export function tsdocExampleModule(block: CodeBlock, sources: readonly ImportSource[]): { text: string; bodyLine: number } {
  const lines = block.code.split('\n');
  const ownImports = lines.filter((line) => /^import\s/.test(line));
  const body = lines.map((line) => (/^import\s/.test(line) ? '' : line));
  const declared = declaredNames(block.code);
  const used = new Set([...block.code.matchAll(/[A-Za-z_$][\w$]*/g)].map(([name]) => name));
  const imports: string[] = [];
  const assumptions: string[] = [];
  for (const name of used) {
    if (declared.has(name)) continue;
    const source = sources.find((candidate) => candidate.names.includes(name));
    if (source) imports.push(`import { ${name} } from '${source.specifier}';`);
    else if (WELL_KNOWN_IMPORTS[name]) imports.push(WELL_KNOWN_IMPORTS[name]);
    else if (ASSUMED_VARIABLES[name]) assumptions.push(`declare const ${name}: ${ASSUMED_VARIABLES[name]};`);
  }
  const head = [...HEADER, ...ownImports, ...imports, ...assumptions, 'export async function example() {'];
  return { text: [...head, ...body, '}', ''].join('\n'), bodyLine: head.length + 1 };
}
