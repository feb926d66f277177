export type { UsageRecord, UsageSink } from './usage.js';
