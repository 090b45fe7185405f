import { z } from 'zod';
import type { CdcChannel } from '../cdc/channel.js';
import type { CdcSimulator } from '../cdc/simulator.js';
import { readJsonBody } from '../http/body.js';
import { badRequest } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';

const simulatorStart = z.strictObject({
  rate: z.number().positive().max(1_000),
  durationMs: z.number().int().positive().max(3_600_000).optional(),
});

/**
 * Development endpoints: inject a Salesforce change event through the real delivery path, or
 * run a simulated stream of them. A production deployment would not mount these.
 */
export function devRoutes(
  router: Router,
  options: { channel: CdcChannel; simulator: CdcSimulator; maxBodyBytes: number },
): void {
  const { channel, simulator, maxBodyBytes } = options;

  router.post('/dev/cdc', async ({ req, res }) => {
    const event = await readJsonBody(req, maxBodyBytes);
    // A malformed event rejects with E_INVALID_EVENT (a 400 naming what is wrong).
    const delivery = await channel.publish(event);
    sendJson(res, 202, delivery);
  });

  router.get('/dev/cdc/simulator', ({ res }) => sendJson(res, 200, simulator.status()));

  router.post('/dev/cdc/simulator', async ({ req, res }) => {
    const parsed = simulatorStart.safeParse(await readJsonBody(req, maxBodyBytes));
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      throw badRequest(
        'INVALID_SIMULATOR_OPTIONS',
        `expected { rate: 0 < events/s <= 1000, durationMs? }: ${problems.join('; ')}`,
      );
    }
    sendJson(res, 202, simulator.start(parsed.data));
  });

  router.delete('/dev/cdc/simulator', ({ res }) => sendJson(res, 200, simulator.stop()));
}
