import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * A stream `run()` writes to (`CliIo.stdout`, `CliIo.stderr`): `process.stdout` or any `Writable`.
 * `isTTY` decides whether prompts and progress lines are shown, as for a real terminal.
 */
export type Terminal = Writable & { isTTY?: boolean };

/**
 * Where a command writes. Results go to stdout (plain text for people, JSON with `--json`);
 * notes, prompts, progress and errors go to stderr, so stdout stays clean for pipes and scripts.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Terminal,
    readonly stderr: Terminal,
  ) {}

  get stderrIsTerminal(): boolean {
    return this.stderr.isTTY === true;
  }

  /** A line on stdout; waits when the reader is slower than us (a pipe to `less`, say). */
  async line(text: string): Promise<void> {
    if (!this.stdout.write(`${text}\n`)) await once(this.stdout, 'drain');
  }

  /** One JSON document (or one NDJSON record) on stdout. */
  async record(value: unknown): Promise<void> {
    await this.line(JSON.stringify(value));
  }

  /** A note for people on stderr (never mixed into stdout's data). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }
}
