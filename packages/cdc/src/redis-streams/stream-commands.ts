import type { RedisConnection } from '@org/cache-redis/connection';
import { entriesOf, entriesOfRead, type StreamEntry } from './stream-codec.js';
import { isReplyError, isServerReply, streamCommand } from './stream-connection.js';
import { CREATE_GROUP, FORGET_TRIMMED, GROUP_POSITION } from './stream-scripts.js';

export interface GroupAddress {
  stream: string;
  group: string;
  consumer: string;
}

/** The group's position against the stream: enough to tell whether the cap trimmed unread entries. */
export interface GroupPosition {
  /** Entries in the stream now. */
  length: number;
  /** The last id handed to any consumer of the group. */
  lastDeliveredId: string;
  /** Entries delivered to the group and not yet acknowledged. */
  pending: number;
  /** Entries added and not yet delivered to the group (Redis 7+, when Redis can tell). */
  lag: number | undefined;
}

export interface ClaimRound {
  /** Where the next round starts; `0-0` when the scan went round the whole PEL. */
  cursor: string;
  entries: StreamEntry[];
  /** Pending entries the stream no longer has (trimmed): Redis 7 drops them from the PEL. */
  deletedIds: string[];
}

/**
 * The stream commands of one consumer, each one Redis round trip with a deadline, all on the
 * stream's one key (so on a cluster, all to its slot's master; the scripts declare it as KEYS[1]).
 * Replies are read in RESP2 or RESP3 shape (a borrowed client may speak either).
 */
export class StreamCommands {
  constructor(
    readonly address: GroupAddress,
    private readonly connection: RedisConnection,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Creates the group at the end of the stream (only entries appended from now on are its), with
   * the stream if missing. Resolves true if it was created, false if it existed.
   */
  async createGroup(): Promise<boolean> {
    const { stream, group } = this.address;
    try {
      await this.#send(['EVAL', CREATE_GROUP, '1', stream, group]);
      return true;
    } catch (error) {
      if (isReplyError(error, 'BUSYGROUP')) return false;
      // Before Redis 7 there is no ENTRIESREAD (and no lag): create the group the plain way.
      if (!isServerReply(error) || !/ENTRIESREAD|syntax/i.test(error.message)) throw error;
    }
    try {
      await this.#send(['XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM']);
      return true;
    } catch (error) {
      if (isReplyError(error, 'BUSYGROUP')) return false;
      throw error;
    }
  }

  /** This consumer's own pending entries after `after` (no BLOCK: answered at once). */
  async readPending(after: string, count: number): Promise<StreamEntry[]> {
    const { stream, group, consumer } = this.address;
    const reply = await this.#send([
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      String(count),
      'STREAMS',
      stream,
      after,
    ]);
    return entriesOfRead(reply);
  }

  /**
   * Entries never delivered to the group, waiting up to `blockMs` for some. Run it on a
   * connection of its own: the BLOCK holds the connection.
   */
  async readNew(blocking: RedisConnection, count: number, blockMs: number): Promise<StreamEntry[]> {
    const { stream, group, consumer } = this.address;
    const reply = await streamCommand(
      blocking,
      ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), 'BLOCK', String(blockMs)].concat([
        'STREAMS',
        stream,
        '>',
      ]),
      stream,
      blockMs + this.timeoutMs,
    );
    return entriesOfRead(reply);
  }

  async ack(ids: readonly string[]): Promise<number> {
    const { stream, group } = this.address;
    return Number(await this.#send(['XACK', stream, group, ...ids]));
  }

  /** Takes over entries idle longer than `minIdleMs` (a crashed consumer's) from `cursor`. */
  async autoClaim(minIdleMs: number, cursor: string, count: number): Promise<ClaimRound> {
    const { stream, group, consumer } = this.address;
    const reply = (await this.#send([
      'XAUTOCLAIM',
      stream,
      group,
      consumer,
      String(minIdleMs),
      cursor,
      'COUNT',
      String(count),
    ])) as unknown[];
    const entries = entriesOf(reply[1]);
    // Redis 7 lists trimmed pending entries apart; Redis 6.2 returns them with null fields.
    const deletedIds = Array.isArray(reply[2]) ? reply[2].map((id) => String(id)) : [];
    return {
      cursor: String(reply[0]),
      entries: entries.filter((entry) => entry.fields !== null),
      deletedIds: deletedIds.concat(
        entries.filter((entry) => entry.fields === null).map((entry) => entry.id),
      ),
    };
  }

  /** The group's position and the stream's length at one moment; undefined when either is missing. */
  async position(): Promise<GroupPosition | undefined> {
    const { stream, group } = this.address;
    const reply = await this.#send(['EVAL', GROUP_POSITION, '1', stream, group]);
    if (!Array.isArray(reply)) return undefined;
    const [length, lastDeliveredId, pending, lag] = reply as [unknown, unknown, unknown, unknown];
    return {
      length: Number(length),
      lastDeliveredId: String(lastDeliveredId),
      pending: Number(pending),
      lag: Number(lag) < 0 ? undefined : Number(lag),
    };
  }

  /** Resets the group's read counter once a fail-safe covered the entries trimmed unread. */
  async forgetTrimmed(): Promise<void> {
    const { stream, group } = this.address;
    await this.#send(['EVAL', FORGET_TRIMMED, '1', stream, group]);
  }

  #send<T = unknown>(args: string[]): Promise<T> {
    return streamCommand<T>(this.connection, args, this.address.stream, this.timeoutMs);
  }
}
