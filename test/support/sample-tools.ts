import { z } from 'zod';
import { defineTool } from '../../src/toolkit/define-tool.js';

/** A read tool: looks a word up. */
export const lookup = defineTool({
  name: 'lookup',
  toolset: 'read',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => `definition of ${word}`,
});

/** A terminal tool that pretends to run a command. */
export const shell = defineTool({
  name: 'shell',
  toolset: 'terminal',
  description: 'Runs a command.',
  parameters: z.object({ command: z.string() }),
  execute: () => 'ran',
});

/** A tool children never get by default (`execute_code` is blocked). */
export const executeCode = defineTool({
  name: 'execute_code',
  toolset: 'code',
  description: 'Runs code.',
  parameters: z.object({ code: z.string() }),
  execute: () => 'ok',
});
