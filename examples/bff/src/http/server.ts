import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorBody, HttpError } from './errors.js';
import { sendError } from './respond.js';
import type { Router } from './router.js';

/** Called once per request with the matched route pattern (or `unmatched`) and the status sent. */
export type RequestLog = (entry: { method: string; route: string; status: number }) => void;

/**
 * The HTTP server: routing, 404/405, and one catch per request, so no request can take the
 * process down. `classify` turns errors a handler throws into HTTP errors (upstream failures
 * into 502s, ...); anything left unclassified is a 500 whose details go to the log only.
 */
export function createHttpServer(options: {
  router: Router;
  classify?: (error: unknown) => HttpError | undefined;
  onRequest?: RequestLog;
  log?: (message: string) => void;
}): Server {
  const { router, classify, onRequest, log = (message) => console.error(message) } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let route = 'unmatched';
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (match.kind === 'none') throw new HttpError(404, 'NOT_FOUND', `no route for ${url.pathname}`);
      route = match.route;
      if (match.kind === 'wrong-method') {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`, {
          allow: match.allowed.join(', '),
        });
      }
      await match.handler({ req, res, url, params: match.params, route: match.route });
    } catch (error) {
      const answer = error instanceof HttpError ? error : classify?.(error);
      if (answer === undefined) log(`${req.method} ${req.url} failed: ${(error as Error)?.stack ?? error}`);
      if (res.headersSent) {
        res.destroy();
      } else if (answer !== undefined) {
        sendError(res, answer.status, answer.code, answer.message, answer.headers);
      } else {
        sendError(res, 500, 'INTERNAL', 'the request failed unexpectedly; see the service log');
      }
    } finally {
      onRequest?.({ method: req.method ?? 'GET', route, status: res.statusCode });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => log(`request handling failed: ${String(error)}`));
  });
  // A malformed request line or headers: answer 400 rather than drop the socket silently.
  server.on('clientError', (_error, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(errorBody('BAD_REQUEST', 'malformed HTTP request'));
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  return server;
}
