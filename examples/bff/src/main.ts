import { createBff } from './app.js';
import { banner } from './banner.js';
import { loadConfig } from './config.js';

// The backend-for-frontend: `node dist/main.js` (PORT, REDIS_URL, CACHE_TIER, ... in README.md).

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

// A request is caught where it is handled; this is the last net for a background promise that
// nobody awaited: log it rather than take every in-flight request down with the process.
process.on('unhandledRejection', (reason) => console.error('unhandled rejection:', reason));

const bff = await createBff(config);
const url = await bff.listen();
console.log(banner(url, bff));

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
  bff.close().then(
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
