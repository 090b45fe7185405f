import { expect } from 'vitest';
import type { DashboardState } from '../../src/observability/dashboard-state.js';
import { fetchJson, postJson, waitFor } from './http.js';

/** What the tests read from a running service, through its public endpoints only. */
export class BffClient {
  constructor(readonly url: string) {}

  async dashboard(): Promise<DashboardState> {
    const { status, body } = await fetchJson<DashboardState>(`${this.url}/api/dashboard`);
    expect(status).toBe(200);
    return body;
  }

  async salesforceCalls(): Promise<number> {
    return (await this.dashboard()).upstream.salesforce.calls;
  }

  async getOk<T>(path: string): Promise<T> {
    const { status, body } = await fetchJson<T>(`${this.url}${path}`);
    expect(status, `GET ${path}: ${JSON.stringify(body)}`).toBe(200);
    return body;
  }

  /** How many Salesforce calls one GET cost. */
  async callsFor(path: string): Promise<number> {
    const before = await this.salesforceCalls();
    await this.getOk(path);
    return (await this.salesforceCalls()) - before;
  }

  /**
   * POSTs a change event to /dev/cdc and resolves once the invalidator has applied it: at once
   * for the in-process source (the answer carries the outcome), after the stream consumer
   * processed it for the Redis stream source.
   */
  async sendChangeEvent(event: unknown): Promise<{ via: string }> {
    const before = (await this.dashboard()).health.subscriber.counters.processed;
    const { status, body } = await postJson<{ via: string; outcome?: { status: string } }>(
      `${this.url}/dev/cdc`,
      event,
    );
    expect(status, JSON.stringify(body)).toBe(202);
    if (body.via === 'in-process') {
      expect(body.outcome?.status).toBe('applied');
    } else {
      await waitFor('the stream consumer to apply the event', async () => {
        const processed = (await this.dashboard()).health.subscriber.counters.processed;
        return processed > before ? processed : undefined;
      });
    }
    return body;
  }
}
