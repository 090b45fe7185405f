import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Cache } from '@org/cache-core';
import { getCacheToken } from '@org/cache-nestjs';
import { AppModule } from './app.module.js';
import { banner } from './banner.js';
import { CDC_CHANNEL } from './cdc/cdc-channel.module.js';
import type { CdcChannel } from './cdc/channel.js';
import type { BffConfig } from './config/bff-config.js';
import { BFF_SETTINGS } from './config/config.module.js';
import { configureHttp } from './http/configure-http.js';
import { listen, redisWarning } from './startup.js';
import { CHOSEN_STORE } from './store/cache-setup.module.js';
import type { ChosenStore } from './store/choose-store.js';

// The backend-for-frontend: `node dist/main.js` (PORT, REDIS_URL, CACHE_TIER, ... in README.md).

/** A start-up failure: one line for people, no stack, exit code 1. */
function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

// A request is caught where it is handled; this is the last net for a background promise that
// nobody awaited: log it rather than take every in-flight request down with the process.
process.on('unhandledRejection', (reason) => console.error('unhandled rejection:', reason));

let root: DynamicModule;
try {
  root = await AppModule.forRoot();
} catch (error) {
  fail((error as Error).message);
}

// Express: the service reads bodies and serves files on Node's own request and response (size
// limits, 413 before parsing, no traversal), which Express hands over as they are. No body
// parser (the dev endpoints read theirs with a limit); Nest's own logs at warn and above only,
// so the banner is what an operator reads.
const app = await NestFactory.create<NestExpressApplication>(root, {
  bodyParser: false,
  abortOnError: false,
  logger: ['error', 'warn'],
}).catch((error: unknown) => fail(`the service could not start: ${(error as Error).message}`));
configureHttp(app);
await app.init();

const config = app.get<BffConfig>(BFF_SETTINGS);
const warning = await redisWarning(app.get<Cache>(getCacheToken()), config.redisUrl);
if (warning !== undefined) console.warn(warning);

let url: string;
try {
  url = await listen(app.getHttpServer(), config.port, config.host);
} catch (error) {
  await app.close();
  fail((error as Error).message);
}
const store = app.get<ChosenStore>(CHOSEN_STORE);
const channel = app.get<CdcChannel>(CDC_CHANNEL);
console.log(banner(url, { store, cdc: channel }));

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: shutting down`);
  // Bounded: a store that does not answer must not keep the process alive forever.
  const force = setTimeout(() => {
    console.error('shutdown took over 10 s; exiting anyway');
    process.exit(1);
  }, 10_000);
  force.unref();
  // Nest's shutdown: the simulator stops, the change-event source stops, the server stops
  // taking requests and finishes the running ones, then the cache (and its store) closes.
  app.close().then(
    () => {
      console.log('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('shutdown failed:', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
