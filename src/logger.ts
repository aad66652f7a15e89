/**
 * Where everything the runtime and the model loop have to say goes: a
 * logger with four levels, the shape the `openai` client takes too, so its
 * own logging can be routed through the same one.
 */
import { BadArgumentError } from './errors.js';
import { redactSecrets } from './secrets.js';

/** The levels, most talkative first; `off` silences everything. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** A logger: `console` is one, and so are pino's and winston's loggers. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];

/**
 * The default logger: `console`, printing `level` and above.
 *
 * @example
 * ```ts
 * const logger = consoleLogger('debug');
 * logger.debug('shown');
 * ```
 */
export function consoleLogger(level: LogLevel = 'warn'): Logger {
  if (!LEVELS.includes(level)) throw new BadArgumentError('level', `one of ${LEVELS.join(', ')}`, level);
  const threshold = LEVELS.indexOf(level);
  const at = (wanted: Exclude<LogLevel, 'off'>, print: (...data: unknown[]) => void) =>
    LEVELS.indexOf(wanted) >= threshold ? (message: string, ...details: unknown[]) => print(`subagents: ${message}`, ...details) : () => {};
  return {
    debug: at('debug', console.debug),
    info: at('info', console.info),
    warn: at('warn', console.warn),
    error: at('error', console.error),
  };
}

/** The logger a runtime uses: the given one, the console at the given level, or the console at `warn`. */
export function resolveLogger(option: Logger | LogLevel | undefined): Logger {
  if (option === undefined) return consoleLogger('warn');
  if (typeof option === 'string') {
    if (!LEVELS.includes(option)) throw new BadArgumentError('logger', `a logger, or a level: one of ${LEVELS.join(', ')}`, option);
    return consoleLogger(option);
  }
  if (typeof option !== 'object' || option === null || !(['debug', 'info', 'warn', 'error'] as const).every((level) => typeof option[level] === 'function')) {
    throw new BadArgumentError('logger', "a logger with debug, info, warn and error methods, or a level ('debug' … 'off')", option);
  }
  return option;
}

/** A logger whose messages and string details have every secret redacted, and that never throws. */
export function redactingLogger(logger: Logger, secrets: readonly string[]): Logger {
  const wrap = (level: Exclude<LogLevel, 'off'>) => (message: string, ...details: unknown[]) => {
    try {
      logger[level](redactSecrets(String(message), secrets), ...details.map((detail) => (typeof detail === 'string' ? redactSecrets(detail, secrets) : detail)));
    } catch {
      // A logger that throws must not break the runtime.
    }
  };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
