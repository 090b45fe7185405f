export { type InstrumentOptions, instrumentCache } from './instrument.js';
export type { SpanLevel } from './spans.js';
