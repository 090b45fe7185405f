import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HttpRequestCounter } from '../observability/http-requests.js';
import { errorBody } from './errors.js';
import { sendError } from './respond.js';

/**
 * What the service does to every request before Nest routes it, set on the Express instance
 * (and so shared by main.ts and the in-process tests): no `X-Powered-By`, no ETags (the
 * dashboard polls JSON that changes every second), `cache-control: no-store` unless an answer
 * says otherwise, a path that is not valid percent-encoding refused as 400 INVALID_PATH (Express
 * would answer it with an HTML page), every answer counted by route pattern for /metrics, and a
 * malformed HTTP request answered 400 JSON rather than the socket dropped.
 */
export function configureHttp(app: NestExpressApplication): void {
  app.disable('x-powered-by');
  app.set('etag', false);
  const requests = app.get(HttpRequestCounter);
  app.use((req: IncomingMessage & { route?: { path?: unknown } }, res: ServerResponse, next: () => void) => {
    res.setHeader('cache-control', 'no-store');
    res.once('finish', () => {
      // Express sets req.route to the matched route; its pattern is a bounded label, never the raw path.
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      requests.record({ method: req.method ?? 'GET', route, status: res.statusCode });
    });
    if (!isValidPercentEncoding(req.url ?? '/')) {
      sendError(res, 400, 'INVALID_PATH', 'the path is not valid percent-encoding');
      return;
    }
    next();
  });
  answerMalformedRequests(app.getHttpServer());
}

function isValidPercentEncoding(url: string): boolean {
  const path = url.split('?', 1)[0] as string;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** A malformed request line or headers: a 400 JSON answer, then the connection closed. */
function answerMalformedRequests(server: Server): void {
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
}
