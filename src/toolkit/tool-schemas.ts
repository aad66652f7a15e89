/**
 * Zod pieces the agent tools share, with the bounds that keep a model's
 * arguments sane: texts up to 100,000 characters, ids and names short.
 */
import { z } from 'zod';
import { TOOL_NAME_PATTERN } from './define-tool.js';

/** Longest goal, context or message, in characters. */
export const TEXT_LIMIT = 100_000;
/** Longest handle id a model may name. */
export const ID_LIMIT = 128;
/** Most items in a list argument (targets, toolsets). */
export const LIST_LIMIT = 64;

/** A non-empty text up to {@link TEXT_LIMIT} characters; surrounding blanks are trimmed. */
export const textSchema = () =>
  z
    .string()
    .trim()
    .min(1, 'expected a non-empty string')
    .max(TEXT_LIMIT, `expected at most ${TEXT_LIMIT} characters`);

/** The id of a handle, as a model names it. */
export const handleIdSchema = () =>
  z.string().trim().min(1, 'expected a non-empty handle id').max(ID_LIMIT, `expected a handle id of at most ${ID_LIMIT} characters`);

/** A nickname, which becomes the handle's id. */
export const nicknameSchema = () =>
  z.string().regex(/^[\w.-]{1,64}$/, 'expected a nickname of 1-64 letters, digits, `_`, `-` or `.`');

/** A toolset name. */
export const toolsetNameSchema = () =>
  z.string().regex(TOOL_NAME_PATTERN, 'expected a toolset name of 1-64 letters, digits, `_` or `-`');

/** A list of toolset names. */
export const toolsetsSchema = () =>
  z.array(toolsetNameSchema()).max(LIST_LIMIT, `expected at most ${LIST_LIMIT} toolsets`);

/** An agent type name; whether it exists is checked against the runtime. */
export const agentTypeSchema = () =>
  z.string().trim().min(1, 'expected a non-empty agent type name').max(64, 'expected an agent type name of at most 64 characters');

/** A model name. */
export const modelSchema = () =>
  z.string().trim().min(1, 'expected a non-empty model name').max(200, 'expected a model name of at most 200 characters');

/** A provider name, as the runtime's `providers` name it. */
export const providerSchema = () =>
  z.string().trim().min(1, 'expected a non-empty provider name').max(200, 'expected a provider name of at most 200 characters');

/** A role. */
export const roleSchema = () => z.enum(['leaf', 'orchestrator']);

/** Longest working directory path a caller may give, in characters. */
export const PATH_LIMIT = 4_096;

/** A working directory: relative to the caller's, or absolute; checked against the caller's by the runtime. */
export const workingDirSchema = () =>
  z.string().trim().min(1, 'expected a non-empty directory path').max(PATH_LIMIT, `expected a path of at most ${PATH_LIMIT} characters`);

/** Where a child's runs work: in its working directory, or in a git worktree of their own. */
export const isolationSchema = () => z.enum(['none', 'worktree']);

/** Most messages `{ lastMessages }` may take from the parent's conversation. */
export const LAST_MESSAGES_LIMIT = 10_000;

/** What a child starts with: nothing of its parent's conversation, all of it, or its last messages. */
export const contextModeSchema = () =>
  z.union([
    z.enum(['fresh', 'fork']),
    z
      .object({
        lastMessages: z
          .number()
          .int('expected an integer')
          .min(1, 'expected at least 1 message')
          .max(LAST_MESSAGES_LIMIT, `expected at most ${LAST_MESSAGES_LIMIT} messages`),
      })
      .strict(),
  ]);
