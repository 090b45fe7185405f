import type { Command } from '../command.js';
import { get } from './get.js';
import { invalidate } from './invalidate.js';
import { keys } from './keys.js';
import { memory } from './memory.js';
import { stats } from './stats.js';
import { watch } from './watch.js';

/** Every command, in the order `--help` lists them. */
export const commands: readonly Command[] = [stats, keys, get, memory, invalidate, watch];
