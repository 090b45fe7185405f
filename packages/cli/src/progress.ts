import type { Terminal } from './output.js';

export interface Progress {
  update(done: number): void;
  finish(done: number): void;
}

export type ProgressMode = 'bar' | 'lines' | 'off';

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

/**
 * Progress of a long delete on stderr. `bar` redraws one line in place (a terminal); `lines`
 * prints `progress <done>/<total> (<percent>%)` each time the whole percentage grows (a log, or
 * a test reading stderr); `off` prints nothing.
 */
export function progressOn(stream: Terminal, mode: ProgressMode, total: number, label: string): Progress {
  if (mode === 'off') return { update() {}, finish() {} };
  const percentOf = (done: number) => (total <= 0 ? 100 : Math.min(100, Math.floor((done / total) * 100)));
  // The total is counted first (live entries); the delete also removes expired ones, so it can run past it.
  const of = (done: number) => Math.max(total, done);
  if (mode === 'lines') {
    let printed = -1;
    const print = (done: number) => {
      printed = percentOf(done);
      stream.write(`progress ${done}/${of(done)} (${printed}%)\n`);
    };
    return {
      update(done) {
        if (percentOf(done) > printed) print(done);
      },
      finish(done) {
        print(done);
      },
    };
  }
  let lastDraw = 0;
  const draw = (done: number) => {
    const percent = percentOf(done);
    const filled = Math.round((percent / 100) * BAR_WIDTH);
    stream.write(
      `\r${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${of(done)}`,
    );
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      draw(done);
    },
    finish(done) {
      draw(done);
      stream.write('\n');
    },
  };
}
