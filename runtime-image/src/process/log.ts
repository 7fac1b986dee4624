// The runtime pod's log (pino): one JSON event a line on stdout, `event` naming it, a level, errors with their stack.
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

/** What SLUICE_LOG_LEVEL takes, from the most to the least said. */
export const LOG_LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export type RuntimeLog = Logger;

export interface RuntimeLogOptions {
  level?: Level;
  /** Where the lines go; stdout, written synchronously so the last line is out before the process exits. */
  destination?: DestinationStream;
}

/**
 * The lines keep the shape the controller and the tests read: `{"level":"info","time":"<ISO-8601>",…,"event":"…"}`,
 * with the event's fields at the top level (`error` a message, `code` its SLUICE_E_ code). An error logged as `err`
 * gets pino's serializer: its type, message, stack and cause. No pid or hostname: the pod's name says both.
 */
export function createRuntimeLog(options: RuntimeLogOptions = {}): RuntimeLog {
  return pino(
    {
      level: options.level ?? 'info',
      messageKey: 'event',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
