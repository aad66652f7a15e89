#!/usr/bin/env node
/**
 * The `subagents` executable. Sets the exit code and lets the process end by
 * itself: everything the command started is stopped before `runCli` resolves.
 */
import { processIo, runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
// Only connections from outside (a browser still on the inspector relay) can hold the process now: do not wait for them.
setTimeout(() => process.exit(code), 1_000).unref();
