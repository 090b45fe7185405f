interface Ticket {
  valid: boolean;
}

/**
 * Keeps an L2 read from refilling L1 with a value that was invalidated while the read was in
 * flight (by another instance's message, this instance's own write, or a loss of trust): such a
 * read still answers its caller, but its value is not kept. Bounded by the reads in flight.
 */
export class FillGuard {
  private readonly pending = new Map<string, Set<Ticket>>();

  /** Call before reading `key` from L2; pass the ticket to `mayFill` after. */
  start(key: string): Ticket {
    const ticket = { valid: true };
    let tickets = this.pending.get(key);
    if (tickets === undefined) {
      tickets = new Set();
      this.pending.set(key, tickets);
    }
    tickets.add(ticket);
    return ticket;
  }

  /** Ends the read: true when nothing invalidated `key` since `start`. */
  mayFill(key: string, ticket: Ticket): boolean {
    const tickets = this.pending.get(key);
    tickets?.delete(ticket);
    if (tickets?.size === 0) this.pending.delete(key);
    return ticket.valid;
  }

  invalidate(keys: Iterable<string>): void {
    for (const key of keys) for (const ticket of this.pending.get(key) ?? []) ticket.valid = false;
  }

  invalidateAll(): void {
    for (const tickets of this.pending.values()) for (const ticket of tickets) ticket.valid = false;
  }
}
