import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './processes.js';

/** Every declaration file `dist/index.d.ts` reaches through relative imports. */
function reachableDeclarations(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (file: string) => {
    if (found.has(file)) return;
    const text = readFileSync(file, 'utf8');
    found.set(file, text);
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.d.ts')));
    }
  };
  visit(entry);
  return found;
}

describe('the published types', () => {
  it('never name the optional MCP SDK: a project without it type-checks', () => {
    const declarations = reachableDeclarations(path.join(ROOT, 'dist', 'index.d.ts'));
    expect([...declarations.keys()].map((file) => path.relative(ROOT, file))).toContain(path.join('dist', 'mcp', 'serve-http.d.ts'));
    const naming = [...declarations].filter(([, text]) => /(?:from|import)\s*\(?\s*['"]@modelcontextprotocol\//.test(text)).map(([file]) => path.relative(ROOT, file));
    expect(naming).toEqual([]);
    // The check finds such an import where there is one.
    expect(/(?:from|import)\s*\(?\s*['"]@modelcontextprotocol\//.test(readFileSync(path.join(ROOT, 'dist', 'mcp', 'sdk.d.ts'), 'utf8'))).toBe(true);
  });
});
