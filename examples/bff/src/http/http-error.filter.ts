import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { classifyError } from './error-classes.js';
import { HttpError } from './errors.js';
import { sendError } from './respond.js';
import { RouteTable } from './route-table.js';

/**
 * Every error answer of the service, as JSON `{ error: { code, message } }`: the service's own
 * HttpErrors, upstream failures classified (502, 504, ...), Nest's "no route" as a 404 or, when
 * the path exists for another method, a 405 with `Allow`. Anything else is a 500 whose details
 * go to the log only. A failure after the answer started cuts the connection.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  readonly #logger = new Logger('Http');

  constructor(@Inject(RouteTable) private readonly routes: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const res = http.getResponse<ServerResponse>();
    const answer = this.#answerFor(exception, req);
    if (answer === undefined)
      this.#logger.error(`${req.method} ${req.url} failed: ${(exception as Error)?.stack ?? exception}`);
    if (res.headersSent) {
      res.destroy();
    } else if (answer !== undefined) {
      sendError(res, answer.status, answer.code, answer.message, answer.headers);
    } else {
      sendError(res, 500, 'INTERNAL', 'the request failed unexpectedly; see the service log');
    }
  }

  #answerFor(exception: unknown, req: IncomingMessage): HttpError | undefined {
    if (exception instanceof HttpError) return exception;
    // The service's own code never throws Nest's NotFoundException: this is its router's "no route".
    if (exception instanceof NotFoundException) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      const allowed = this.routes.methodsFor(pathname);
      if (allowed.length > 0)
        return new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`, {
          allow: allowed.join(', '),
        });
      return new HttpError(404, 'NOT_FOUND', `no route for ${pathname}`);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return new HttpError(status, status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', exception.message);
    }
    return classifyError(exception);
  }
}
