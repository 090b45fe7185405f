import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { notFound } from '../http/errors.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Sends `root/<requested>` if it is a file inside `root` (symbolic links resolved: nothing
 * outside the directory is ever served). Anything else, `..` tricks included, is a 404.
 */
export async function serveFile(res: ServerResponse, root: string, requested: string): Promise<void> {
  if (requested.includes('\0')) throw notFound('no such file');
  const rootPath = await realpath(root).catch(() => undefined);
  if (rootPath === undefined) throw notFound('the dashboard is not installed (no public/ directory)');
  const candidate = resolve(rootPath, `.${requested.startsWith('/') ? '' : '/'}${requested}`);
  const filePath = await realpath(candidate).catch(() => undefined);
  if (filePath === undefined || !isInside(rootPath, filePath)) throw notFound(`no such file: ${requested}`);
  const info = await stat(filePath);
  if (!info.isFile()) throw notFound(`no such file: ${requested}`);
  res.writeHead(200, {
    'content-type': contentTypeOf(filePath),
    'content-length': info.size,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(filePath);
    stream.on('error', fail);
    res.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
}

function isInside(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return fromRoot !== '' && fromRoot !== '..' && !fromRoot.startsWith(`..${sep}`) && !isAbsolute(fromRoot);
}
