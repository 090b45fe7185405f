import type { Command } from './command.js';
import { EXIT } from './errors.js';

const GLOBAL_HELP = `Global flags:
  --url URL              Redis URL (redis:// or rediss://); default: $REDIS_URL. Never a default host.
  --cluster              the URL(s) are Redis Cluster seed nodes (--url may then repeat)
  --prefix PREFIX        the cache prefix the application uses (required)
  --json                 machine-readable output on stdout (errors as JSON on stderr)
  --connect-timeout D    how long to wait for Redis (default 2s; ms or 500ms, 2s, 1m)
  --timeout D            deadline of each Redis operation (default 5s)
  -h, --help             this help (or \`cachectl COMMAND --help\`)
  --version              the version`;

export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  const codes = Object.entries(EXIT).map(([name, code]) => `${code} ${name}`);
  return [
    'cachectl: inspect and invalidate an @org/cache cache on Redis',
    '',
    'Usage: cachectl COMMAND [ARGS] --url redis://host:6379 --prefix PREFIX [--json]',
    '',
    'Commands:',
    ...lines,
    '',
    GLOBAL_HELP,
    '',
    `Exit codes: ${codes.join(', ')}`,
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [
    `Usage: ${command.usage} --prefix PREFIX [--url URL] [--json]`,
    '',
    command.summary,
    '',
    GLOBAL_HELP,
  ].join('\n');
}
