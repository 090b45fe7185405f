import { setTimeout as sleep } from 'node:timers/promises';
import { type InvalidationEvent, parseInvalidationEvent } from '@org/cache-cdc';
import type { RedisStore } from '@org/cache-redis';
import { CliError, EXIT } from '../errors.js';

export interface StreamEvent {
  source: 'stream';
  at: string;
  stream: string;
  /** The stream entry id. */
  id: string;
  event: InvalidationEvent;
}

export interface MalformedStreamEntry {
  source: 'stream';
  at: string;
  stream: string;
  id: string;
  /** Why the entry is not an invalidation event (the CDC source acknowledges and counts these). */
  malformed: string;
}

/** The field `redisStreamPublisher` writes each event under, as JSON. */
const EVENT_FIELD = 'event';
const BATCH = '100';
const POLL_MS = 250;
const RETRY_MS = 1_000;

/**
 * Follows a CDC stream (the one `redisStreamPublisher` appends to) from its newest entry on, with
 * plain XREAD: no consumer group, so watching never takes an event away from the services that
 * apply them, and never blocks a connection (it polls every 250 ms when idle).
 */
export class StreamTail {
  private constructor(
    private readonly redis: RedisStore,
    readonly stream: string,
    /** The id entries are read after: the newest one when the tail started. */
    private last: string,
  ) {}

  static async open(redis: RedisStore, stream: string): Promise<StreamTail> {
    const type = String(await redis.connection.command(['TYPE', stream], stream, true));
    if (type !== 'stream' && type !== 'none') {
      throw new CliError(
        'E_NOT_A_STREAM',
        `--stream ${stream} is a Redis ${type}, not a stream`,
        EXIT.invalidInput,
      );
    }
    const newest = await redis.connection.command<unknown>(
      ['XREVRANGE', stream, '+', '-', 'COUNT', '1'],
      stream,
      true,
    );
    const [entry] = entriesOf(newest);
    return new StreamTail(redis, stream, entry?.id ?? '0-0');
  }

  /** Entries appended from now on, until `signal` aborts. A failing read is reported and retried. */
  async *events(
    signal: AbortSignal,
    onError: (error: unknown) => void,
  ): AsyncGenerator<StreamEvent | MalformedStreamEntry> {
    while (!signal.aborted) {
      let entries: Entry[];
      try {
        const reply = await this.redis.connection.command<unknown>(
          ['XREAD', 'COUNT', BATCH, 'STREAMS', this.stream, this.last],
          this.stream,
          true,
        );
        entries = entriesOfRead(reply);
      } catch (error) {
        onError(error);
        await pause(RETRY_MS, signal);
        continue;
      }
      if (entries.length === 0) {
        await pause(POLL_MS, signal);
        continue;
      }
      for (const entry of entries) {
        this.last = entry.id;
        yield this.decode(entry);
      }
    }
  }

  private decode(entry: Entry): StreamEvent | MalformedStreamEntry {
    const base = {
      source: 'stream' as const,
      at: new Date().toISOString(),
      stream: this.stream,
      id: entry.id,
    };
    const fields = entry.fields ?? [];
    let json: string | undefined;
    for (let index = 0; index + 1 < fields.length; index += 2) {
      if (fields[index] === EVENT_FIELD) json = fields[index + 1];
    }
    if (json === undefined) return { ...base, malformed: `no \`${EVENT_FIELD}\` field` };
    try {
      return { ...base, event: parseInvalidationEvent(JSON.parse(json)) };
    } catch (error) {
      return { ...base, malformed: (error as Error).message };
    }
  }
}

interface Entry {
  id: string;
  fields: string[] | null;
}

/** XREAD's reply for one stream: RESP2 `[[stream, entries]]`, RESP3 a map; `null` = nothing new. */
function entriesOfRead(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return reply.flatMap((stream) => entriesOf((stream as unknown[])[1]));
  const values = reply instanceof Map ? [...reply.values()] : Object.values(reply as object);
  return values.flatMap((entries) => entriesOf(entries));
}

function entriesOf(reply: unknown): Entry[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((entry) => {
    const [id, fields] = entry as [unknown, unknown];
    return { id: String(id), fields: Array.isArray(fields) ? fields.map(String) : null };
  });
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {});
}
