/**
 * `subagents/opentelemetry`: spans for every run, model call and tool call,
 * nested along the subagent tree. Needs `@opentelemetry/api` (an optional
 * peer dependency, `~1.9`); the main entry never loads it.
 */
export { openTelemetry } from './open-telemetry.js';
export type { OpenTelemetryOptions } from './open-telemetry.js';
export { GEN_AI_SEMCONV_VERSION } from './attributes.js';
export type { TelemetryHooks } from '../telemetry-hooks.js';
