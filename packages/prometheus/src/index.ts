export { type CollectorOptions, cacheCollector } from './collector.js';
