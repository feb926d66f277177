export { openHome, resolveHomePath, type WarrenHome } from './home.js';
export { formatZodIssues, loadConfig, parseConfig } from './load.js';
export { warrenConfigSchema, type RuleEntry, type WarrenConfig } from './schema.js';
export { parseSize } from './size.js';
