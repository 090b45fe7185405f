import { Inject, Injectable, type OnApplicationBootstrap, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';

interface Route {
  method: string;
  segments: string[];
}

/**
 * The application's routes, read from its controllers' metadata once it has started, for what
 * Express does not do by itself: a path that exists for another method is a 405 with `Allow`,
 * not a 404. Patterns as Nest declares them: `:name` is one segment, a final `*name` the rest.
 */
@Injectable()
export class RouteTable implements OnApplicationBootstrap {
  #routes: Route[] = [];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    const routes: Route[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const { metatype } = wrapper;
      if (typeof metatype !== 'function') continue;
      const prefixes = pathsOf(Reflect.getMetadata(PATH_METADATA, metatype));
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        for (const prefix of prefixes)
          for (const path of pathsOf(Reflect.getMetadata(PATH_METADATA, handler)))
            routes.push({ method: RequestMethod[method], segments: segmentsOf(`${prefix}/${path}`) });
      }
    }
    this.#routes = routes;
  }

  /** The methods declared for `pathname` (a request path, not decoded), in declaration order. */
  methodsFor(pathname: string): string[] {
    const path = segmentsOf(pathname);
    const methods = this.#routes
      .filter((route) => matches(route.segments, path))
      .map((route) => route.method);
    // Express answers HEAD with the GET handler.
    if (methods.includes('GET')) methods.push('HEAD');
    return [...new Set(methods)];
  }
}

function pathsOf(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.map(String);
  return [typeof metadata === 'string' ? metadata : '/'];
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function matches(pattern: readonly string[], path: readonly string[]): boolean {
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    if (expected.startsWith('*')) return path.length > index;
    const actual = path[index];
    if (actual === undefined) return false;
    if (!expected.startsWith(':') && expected !== actual) return false;
  }
  return pattern.length === path.length;
}
