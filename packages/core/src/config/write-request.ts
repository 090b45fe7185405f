/** A write's tags: a list, or a function of the value that derives them once it is known. */
export type TagsOption<T> = readonly string[] | ((value: T) => readonly string[]);

/** What a call asks of the value it writes, resolved once from the call's options and its scope. */
export interface WriteRequest {
  ttlMs: number | null;
  graceMs: number;
  tags: TagsOption<unknown> | undefined;
  fetchTimeoutMs: number;
}
