export type { CoherenceStats } from './coherence.js';
export { type TieredStats, TieredStore, type TieredStoreOptions, tieredStore } from './tiered-store.js';
export type { TrackingStats } from './tracking/tracking-source.js';
