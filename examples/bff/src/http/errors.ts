/** An error with the HTTP answer it stands for: `{ error: { code, message } }` with `status`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', what);

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
