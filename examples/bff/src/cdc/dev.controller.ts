import type { IncomingMessage } from 'node:http';
import { Controller, Delete, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { z } from 'zod';
import type { BffConfig } from '../config/bff-config.js';
import { BFF_SETTINGS } from '../config/config.module.js';
import { readJsonBody } from '../http/body.js';
import { badRequest } from '../http/errors.js';
import { CDC_CHANNEL } from './cdc-channel.module.js';
import type { CdcChannel } from './channel.js';
import { CdcSimulator } from './simulator.js';

const simulatorStart = z.strictObject({
  rate: z.number().positive().max(1_000),
  durationMs: z.number().int().positive().max(3_600_000).optional(),
});

/**
 * Development endpoints: inject a Salesforce change event through the real delivery path, or
 * run a simulated stream of them. A production deployment would not mount these. Bodies are read
 * here (the app has no body parser): a size limit with a 413, and `__proto__` keys dropped.
 */
@Controller('dev/cdc')
export class DevController {
  constructor(
    @Inject(CDC_CHANNEL) private readonly channel: CdcChannel,
    @Inject(CdcSimulator) private readonly simulator: CdcSimulator,
    @Inject(BFF_SETTINGS) private readonly config: BffConfig,
  ) {}

  @Post()
  @HttpCode(202)
  async publish(@Req() req: IncomingMessage) {
    const event = await readJsonBody(req, this.config.maxBodyBytes);
    // A malformed event rejects with E_INVALID_EVENT (a 400 naming what is wrong).
    return this.channel.publish(event);
  }

  @Get('simulator')
  status() {
    return this.simulator.status();
  }

  @Post('simulator')
  @HttpCode(202)
  async start(@Req() req: IncomingMessage) {
    const parsed = simulatorStart.safeParse(await readJsonBody(req, this.config.maxBodyBytes));
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      throw badRequest(
        'INVALID_SIMULATOR_OPTIONS',
        `expected { rate: 0 < events/s <= 1000, durationMs? }: ${problems.join('; ')}`,
      );
    }
    return this.simulator.start(parsed.data);
  }

  @Delete('simulator')
  stop() {
    return this.simulator.stop();
  }
}
