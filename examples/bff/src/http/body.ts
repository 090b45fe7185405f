import type { IncomingMessage } from 'node:http';
import { parseUntrustedJson } from '@org/cache-core';
import { badRequest, HttpError } from './errors.js';

/** Past this many times the limit, an oversized body is not even drained: the connection is cut. */
const DRAIN_FACTOR = 16;

/**
 * The request's JSON body, at most `maxBytes` of it. An oversized body is answered 413 (after
 * draining it, so the client reads the answer rather than a reset), anything but JSON 400.
 * `__proto__` keys are dropped.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is over the ${maxBytes}-byte limit`, {
      connection: 'close',
    });
  const chunks: Buffer[] = [];
  let received = 0;
  let oversized = Number.isFinite(declared) && declared > maxBytes;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) oversized = true;
    if (oversized) {
      if (received > maxBytes * DRAIN_FACTOR) {
        req.destroy();
        throw tooLarge();
      }
      continue;
    }
    chunks.push(chunk);
  }
  if (oversized) throw tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw badRequest('INVALID_JSON', 'the request body is empty: send a JSON document');
  try {
    return parseUntrustedJson(text);
  } catch (error) {
    throw badRequest('INVALID_JSON', `the request body is not JSON: ${(error as Error).message}`);
  }
}
