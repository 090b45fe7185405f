import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters, URL-decoded: `:accountId` -> `params.accountId`; `*rest` -> the rest of the path. */
  params: Readonly<Record<string, string>>;
  /** The matched route's pattern (`/api/orders/:accountId`): a metric label, never the raw path. */
  route: string;
}

export type Handler = (context: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
}

export type Match =
  | { kind: 'found'; handler: Handler; params: Record<string, string>; route: string }
  | { kind: 'wrong-method'; allowed: string[]; route: string }
  | { kind: 'none' };

/**
 * Routes by method and path pattern: `:name` matches one segment, a final `*name` the rest of
 * the path (one or more segments). A path that matches with another method is a 405 with Allow.
 */
export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, pattern, segments: pattern.split('/').slice(1), handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  delete(pattern: string, handler: Handler): this {
    return this.add('DELETE', pattern, handler);
  }

  /** Throws a 400 HttpError when a path segment is not valid percent-encoding. */
  match(method: string, pathname: string): Match {
    const segments = pathname.split('/').slice(1);
    const allowed: string[] = [];
    let pathRoute: string | undefined;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      if (route.method === method)
        return { kind: 'found', handler: route.handler, params, route: route.pattern };
      allowed.push(route.method);
      pathRoute ??= route.pattern;
    }
    if (pathRoute !== undefined)
      return { kind: 'wrong-method', allowed: [...new Set(allowed)], route: pathRoute };
    return { kind: 'none' };
  }
}

function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    if (expected.startsWith('*')) {
      const rest = path.slice(index);
      if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return undefined;
      params[expected.slice(1)] = rest.map(decodeSegment).join('/');
      return params;
    }
    const actual = path[index];
    if (actual === undefined) return undefined;
    if (expected.startsWith(':')) {
      if (actual === '') return undefined;
      params[expected.slice(1)] = decodeSegment(actual);
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return pattern.length === path.length ? params : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('INVALID_PATH', 'the path is not valid percent-encoding');
  }
}
