/** What the clients report through `error`, told apart by shape (neither names its errors). */

/**
 * The client's `EventParseError`: one event it could not decode, on a stream that carries on.
 * It sets no `name`; it carries the undecodable `event` and the `latestReplayId`.
 */
export function isEventParseError(error: unknown): error is { replayId?: unknown; message?: unknown } {
  if (error === null || typeof error !== 'object') return false;
  if (error.constructor?.name === 'EventParseError') return true;
  return 'event' in error && 'latestReplayId' in error;
}

const INVALID_ARGUMENT = 3;

/**
 * True when a stream error says the replay id it was opened with is unusable (expired, corrupt,
 * from another org): gRPC INVALID_ARGUMENT, or a message about the replay id (Salesforce:
 * "The Replay ID validation failed.", error code `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.*`).
 */
export function rejectsReplayId(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, details, message } = error as { code?: unknown; details?: unknown; message?: unknown };
  if (code === INVALID_ARGUMENT || code === 'INVALID_ARGUMENT') return true;
  return /replay.?id/i.test(`${textOf(details)} ${textOf(message)}`);
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === 'object') {
    const { details, message } = error as { details?: unknown; message?: unknown };
    const text = textOf(details) || textOf(message);
    if (text) return text;
  }
  return String(error);
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
