import { createInterface } from 'node:readline';
import type { Terminal } from './output.js';

/** Asks a yes/no question on stderr and reads the answer from stdin; only `y` or `yes` is a yes. */
export function confirm(question: string, input: NodeJS.ReadableStream, output: Terminal): Promise<boolean> {
  return new Promise((resolve) => {
    const prompt = createInterface({ input, output, terminal: false });
    let answered = false;
    prompt.once('line', (answer) => {
      answered = true;
      prompt.close();
      resolve(/^\s*y(es)?\s*$/i.test(answer));
    });
    // End of input (Ctrl-D) before an answer is a no.
    prompt.once('close', () => {
      if (!answered) resolve(false);
    });
    output.write(`${question} [y/N] `);
  });
}
