/**
 * Logging. Library code takes a `Log` (so tests can pass `silentLog`); programs get a winston
 * logger that prints info to the terminal (debug with -v) and everything to
 * `xtalflow.<program>.log`.
 */
import winston from 'winston';

export interface Log {
  info(message: string): void;
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLog: Log = { info() {}, debug() {}, warn() {}, error() {} };

/** A Log that keeps every message, for tests. */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (m: string) => { lines.push(`${level}: ${m}`); };
  return { lines, info: push('info'), debug: push('debug'), warn: push('warn'), error: push('error') };
}

export interface ProgramLogger {
  log: Log;
  close(): Promise<void>;
}

export function createProgramLogger(program: string, opts: { verbose?: boolean; file?: string | null; console?: boolean }): ProgramLogger {
  const transports: winston.transport[] = [];
  if (opts.console !== false) {
    transports.push(new winston.transports.Console({
      level: opts.verbose ? 'debug' : 'info',
      stderrLevels: ['error', 'warn'],
      format: winston.format.printf(({ level, message }) =>
        level === 'error' || level === 'warn' ? `${level}: ${message}` : String(message)),
    }));
  }
  let fileTransport: winston.transports.FileTransportInstance | undefined;
  if (opts.file !== null) {
    fileTransport = new winston.transports.File({
      filename: opts.file ?? `xtalflow.${program}.log`,
      level: 'debug',
      options: { flags: 'w' },
      format: winston.format.printf(({ level, message }) => (level === 'info' ? String(message) : `[${level}] ${message}`)),
    });
    transports.push(fileTransport);
  }
  const logger = winston.createLogger({ transports });
  return {
    log: {
      info: (m) => logger.info(m),
      debug: (m) => logger.debug(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
    close: () => new Promise<void>((resolve) => {
      if (!fileTransport) { logger.close(); resolve(); return; }
      fileTransport.on('finish', () => resolve());
      logger.end();
      setTimeout(resolve, 500).unref();
    }),
  };
}
