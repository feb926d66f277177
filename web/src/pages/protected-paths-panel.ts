import type { ProtectedPathsView } from '../api.js';
import { clear, element } from '../dom.js';

const OUTCOMES: Record<ProtectedPathsView['changes'][number]['outcome'], string> = {
  'kept-private': 'kept in the session only; the host file is unchanged',
  quarantined: 'moved aside on the host',
  sanitized: 'moved aside, replaced by its remote and branch settings only',
  failed: 'could not be neutralised: inspect it before running git there',
};

/**
 * What the session did to files the host runs (git config and hooks, .envrc, .vscode/…), shown once it has
 * ended. Everything here was written by the agent: it is set as text only (dom.ts), never as markup.
 */
export function renderProtectedPaths(box: HTMLElement, report: ProtectedPathsView | null): void {
  clear(box);
  box.hidden = !report || (report.changes.length === 0 && report.notes.length === 0);
  if (!report || box.hidden) return;
  box.append(
    element(
      'h2',
      {},
      `Protected paths: the session changed ${report.changes.length + (report.omitted ?? 0)} file(s) the host runs`,
    ),
    element(
      'p',
      { class: 'muted' },
      'None of it runs on the host: changes to the repository config and hooks stayed in the session, files it left in the workspace were moved aside. Apply what you want by hand.',
    ),
    element(
      'ul',
      {},
      ...report.changes.map((change) =>
        element(
          'li',
          { class: change.outcome === 'failed' ? 'refused' : '' },
          element('code', {}, change.path),
          ` ${change.change}: ${OUTCOMES[change.outcome]}`,
          change.movedTo ? element('span', {}, ' → ', element('code', {}, change.movedTo)) : null,
          element('div', { class: 'muted' }, `Protected because ${change.why}.`),
          change.error ? element('div', { class: 'refused' }, change.error) : null,
          change.diff ? element('pre', {}, change.diff) : null,
        ),
      ),
      report.omitted ? element('li', {}, `… and ${report.omitted} more, neutralised the same way`) : null,
      ...report.notes.map((note) => element('li', { class: 'muted' }, note)),
    ),
  );
}
