import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { BffConfig } from '../config/bff-config.js';
import { BFF_SETTINGS } from '../config/config.module.js';
import { badRequest } from '../http/errors.js';
import { sendText } from '../http/respond.js';
import { serveFile } from './static-files.js';

const ASSET_PREFIX = '/dashboard/';

/**
 * The dashboard page and its assets, from the public directory (PUBLIC_DIR). Files are served by
 * `serveFile`, which resolves symbolic links and never leaves the directory; anything else is a
 * JSON 404 like every other error of the service.
 */
@Controller()
export class DashboardController {
  constructor(@Inject(BFF_SETTINGS) private readonly config: BffConfig) {}

  @Get()
  root(@Res() res: ServerResponse): void {
    sendText(res, 302, 'text/plain; charset=utf-8', 'see /dashboard\n', { location: '/dashboard' });
  }

  @Get('dashboard')
  page(@Res() res: ServerResponse): Promise<void> {
    return serveFile(res, this.config.publicDir, 'dashboard.html');
  }

  @Get('dashboard/*file')
  asset(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    // The path as sent, decoded one segment at a time (`%2f` stays inside its segment), rather
    // than Express's wildcard parameter.
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const rest = pathname.startsWith(ASSET_PREFIX) ? pathname.slice(ASSET_PREFIX.length) : '';
    if (rest === '') return serveFile(res, this.config.publicDir, 'dashboard.html');
    return serveFile(res, this.config.publicDir, rest.split('/').map(decodeSegment).join('/'));
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('INVALID_PATH', 'the path is not valid percent-encoding');
  }
}
