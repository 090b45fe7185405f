const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Requests served, by method, route pattern and status: bounded labels only (no raw paths). */
export class HttpRequestCounter {
  readonly #counts = new Map<string, { method: string; route: string; status: string; count: number }>();

  record(entry: { method: string; route: string; status: number }): void {
    const method = METHODS.has(entry.method) ? entry.method : 'OTHER';
    const status = String(entry.status);
    const id = `${method} ${entry.route} ${status}`;
    const known = this.#counts.get(id);
    if (known) known.count++;
    else this.#counts.set(id, { method, route: entry.route, status, count: 1 });
  }

  entries(): Array<{ method: string; route: string; status: string; count: number }> {
    return [...this.#counts.values()].map((entry) => ({ ...entry }));
  }
}
