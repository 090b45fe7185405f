/**
 * The child side of the ChildWorker protocol, for worker scripts: answers `{ id, op, ...args }`
 * requests with `{ id, ok, result | error }`, says `ready` once `ready()` resolves (or `fatal`
 * and exits when it rejects), and exits when the parent goes away.
 */

export type WorkerOperation = (request: Record<string, unknown>) => unknown;

export interface WorkerErrorDescription {
  name: string | undefined;
  code: string | undefined;
  message: string;
}

/** An error as plain data, to cross the IPC channel. */
export function describeWorkerError(error: unknown): WorkerErrorDescription {
  const known = error as { name?: string; code?: string; message?: unknown } | undefined;
  return { name: known?.name, code: known?.code, message: String(known?.message ?? error) };
}

/** Sends to the parent while it is connected (a late message after it left is dropped). */
export function sendToParent(message: unknown): void {
  if (process.connected) process.send?.(message);
}

export async function serveChildWorker(
  operations: Record<string, WorkerOperation>,
  ready: () => Promise<unknown> = async () => {},
): Promise<void> {
  process.on('message', async (request: { id?: unknown; op?: unknown } | undefined) => {
    if (typeof request?.id !== 'number') return;
    const operation = typeof request.op === 'string' ? operations[request.op] : undefined;
    try {
      if (operation === undefined) throw new Error(`unknown op ${String(request.op)}`);
      sendToParent({ id: request.id, ok: true, result: await operation(request as Record<string, unknown>) });
    } catch (error) {
      sendToParent({ id: request.id, ok: false, error: describeWorkerError(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  try {
    await ready();
    sendToParent({ type: 'ready', pid: process.pid });
  } catch (error) {
    sendToParent({ type: 'fatal', error: describeWorkerError(error) });
    process.exit(1);
  }
}
