import { withDeadline } from '@org/cache-core/adapter';
import { type RedisBus, redisBus } from '@org/cache-redis';
import type { Command } from '../command.js';
import { connectionOptions, openStore } from '../connect.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { positiveInteger } from '../invocation.js';
import { describeTarget } from '../target.js';
import { type BusEvent, readBusMessage, type UnreadableBusMessage } from '../watch/bus-message.js';
import { type MalformedStreamEntry, type StreamEvent, StreamTail } from '../watch/stream-tail.js';

export type WatchEvent = BusEvent | UnreadableBusMessage | StreamEvent | MalformedStreamEntry;

export const watch: Command = {
  name: 'watch',
  summary: 'live invalidations: the tiered-store bus and/or a CDC Redis stream, until Ctrl-C',
  usage: 'cachectl watch [--bus-channel C] [--stream S] [--count N]',
  flags: ['bus-channel', 'stream', 'count'],
  args: { min: 0, max: 0 },
  async run({ flags, target, output, signal }) {
    const channel = flags['bus-channel'];
    const streamKey = flags.stream;
    if (channel === undefined && streamKey === undefined) {
      throw usageError(
        'watch needs --bus-channel C (the redisBus channel) and/or --stream S (the CDC stream)',
      );
    }
    const limit = positiveInteger(flags.count, 'count') ?? Number.POSITIVE_INFINITY;
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    signal.addEventListener('abort', onInterrupt, { once: true });
    const redis = await openStore(target);
    let bus: RedisBus | undefined;
    let printed = 0;
    let printing = Promise.resolve();
    const emit = (event: WatchEvent) => {
      if (printed >= limit) return;
      printed++;
      if (printed >= limit) stop.abort();
      printing = printing.then(() => (output.json ? output.record(event) : output.line(describe(event))));
    };
    try {
      const tail = streamKey === undefined ? undefined : await StreamTail.open(redis, streamKey);
      if (channel !== undefined) {
        bus = redisBus({ ...connectionOptions(target), channel });
        bus.subscribe((message) => {
          const event = readBusMessage(message, channel, target.prefix);
          if (event !== undefined) emit(event);
        });
        bus.onConnectionChange((connected) =>
          output.note(
            connected ? 'bus subscription is back' : 'bus subscription lost: messages may be missed',
          ),
        );
        await withDeadline(
          bus.ready(),
          target.connectTimeoutMs,
          () => new Error(`no subscription after ${target.connectTimeoutMs} ms`),
        ).catch((error: unknown) => {
          throw new CliError(
            'E_UNREACHABLE',
            `cannot subscribe to ${channel} on ${describeTarget(target)}: ${(error as Error).message}`,
            EXIT.unreachable,
          );
        });
      }
      const sources = [
        channel === undefined ? [] : [`bus channel '${channel}'`],
        tail === undefined ? [] : [`stream '${tail.stream}'`],
      ].flat();
      output.note(`watching ${sources.join(' and ')} for prefix '${target.prefix}' (Ctrl-C to stop)`);
      const following =
        tail === undefined
          ? Promise.resolve()
          : (async () => {
              const onError = (error: unknown) =>
                output.note(`reading ${tail.stream} failed, retrying: ${(error as Error).message}`);
              for await (const event of tail.events(stop.signal, onError)) emit(event);
            })();
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await following;
      await printing;
    } finally {
      signal.removeEventListener('abort', onInterrupt);
      await Promise.all([bus?.close(), redis.disconnect()]);
    }
  },
};

const SHOWN = 10;

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${shown} (+${items.length - SHOWN} more)` : shown;
}

function describe(event: WatchEvent): string {
  if (event.source === 'bus') {
    if ('unreadable' in event) return `${event.at} bus     unreadable message: ${event.unreadable}`;
    const parts = [
      event.all ? ['everything'] : [],
      event.keys.length > 0 ? [`keys ${list(event.keys)}`] : [],
      event.tags.length > 0 ? [`tags ${list(event.tags)}`] : [],
      event.patterns.length > 0 ? [`patterns ${list(event.patterns)}`] : [],
    ].flat();
    return `${event.at} bus     ${parts.join('; ')} (instance ${event.sender} #${event.sequence})`;
  }
  if ('malformed' in event) return `${event.at} stream  malformed entry ${event.id}: ${event.malformed}`;
  const { source, entity, kind, ids, gap } = event.event;
  const which = ids === '*' ? 'all records' : list(ids);
  return `${event.at} stream  ${source} ${entity} ${kind}${gap ? ' (gap)' : ''} ${which} (${event.id})`;
}
