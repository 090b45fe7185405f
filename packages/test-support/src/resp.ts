import { connect } from 'node:net';

/** A decoded RESP2 reply. Error replies reject instead (see {@link RedisReplyError}). */
export type RespReply = string | number | null | RespReply[];

/** The server answered with a RESP error (`-ERR ...`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

/** No complete reply arrived in time (the server is paused, hung or overloaded). */
export class RedisCommandTimeoutError extends Error {
  override readonly name = 'RedisCommandTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export interface RedisCommandOptions {
  host?: string;
  /** Whole-command deadline: connect, send and read the reply. Default 1000 ms. */
  timeoutMs?: number;
}

/**
 * Sends one command on a fresh raw TCP connection and resolves with the decoded reply. Independent
 * of the adapter under test, so harness checks (readiness, cluster state) cannot share its bugs.
 * Connection errors reject with the socket's error (`code` is e.g. `ECONNREFUSED`).
 */
export function redisCommand(
  port: number,
  args: string[],
  options: RedisCommandOptions = {},
): Promise<RespReply> {
  const { host = '127.0.0.1', timeoutMs = 1000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, reply?: RespReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? null);
    };
    const timer = setTimeout(
      () =>
        finish(
          new RedisCommandTimeoutError(
            `${args.join(' ')} on ${host}:${port}: no reply within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${args.join(' ')} on ${host}:${port}: connection closed`)));
    socket.on('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        const parsed = parseReply(buffer, 0);
        if (parsed) finish(undefined, parsed.value);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}

function encodeCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one reply at `offset`; `undefined` when the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, offset: number): { value: RespReply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      throw new RedisReplyError(line);
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}
