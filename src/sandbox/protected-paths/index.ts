export {
  GIT_ENTRY,
  ROOT_ENTRIES,
  isWorkspaceRelative,
  selectProtectedEntries,
  type ProtectedEntry,
  type ProtectedPathsSetting,
} from './catalog.js';
export { HIDDEN_GIT_DIR, type ProtectionMount } from './mounts.js';
export { prepareWorkspaceProtection, type ProtectionOptions, type WorkspaceProtection } from './protect.js';
export {
  emptyReport,
  formatProtectedPathsReport,
  isProtectedPathsReport,
  type ProtectedPathChange,
  type ProtectedPathsReport,
} from './report.js';
