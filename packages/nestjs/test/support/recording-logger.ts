import type { LoggerService } from '@nestjs/common';

/** A LoggerService that keeps every line, as an app's own logger (nestjs-pino, say) would receive it. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];

  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }

  matching(level: string, pattern: RegExp) {
    return this.lines.filter((line) => line.level === level && pattern.test(line.message));
  }
}
