/** The upstream failed or did not answer: the caller gets a 502 unless the cache has the data. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  constructor(
    readonly upstream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The upstream answered that the record does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}
