import type { ServerResponse } from 'node:http';
import { sendText } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { serveFile } from '../http/static-files.js';

/** The dashboard page and its assets, from the public directory. */
export function dashboardRoutes(router: Router, options: { publicDir: string }): void {
  const { publicDir } = options;
  const page = (res: ServerResponse) => serveFile(res, publicDir, 'dashboard.html');
  router.get('/', ({ res }) => {
    res.setHeader('location', '/dashboard');
    sendText(res, 302, 'text/plain; charset=utf-8', 'see /dashboard\n');
  });
  router.get('/dashboard', ({ res }) => page(res));
  router.get('/dashboard/', ({ res }) => page(res));
  router.get('/dashboard/*file', ({ res, params }) => serveFile(res, publicDir, params.file ?? ''));
}
