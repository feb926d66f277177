import type { SessionView } from '../api.js';
import type { AppContext } from '../app-context.js';
import { clear, element, formatAge } from '../dom.js';

function row(context: AppContext, session: SessionView): HTMLElement {
  const open = () => context.navigate(`#/sessions/${session.id}`);
  return element(
    'tr',
    {
      class: 'session',
      attributes: { 'data-session': session.id, tabindex: '0' },
      on: { click: open },
    },
    element('td', {}, element('a', { attributes: { href: `#/sessions/${session.id}` } }, session.id)),
    element('td', { class: `state state-${session.state}` }, session.state),
    element('td', {}, session.agent),
    element('td', { class: 'wide' }, session.model ?? '—'),
    element('td', {}, formatAge(session.createdAt)),
    element('td', { class: 'number' }, session.flowCount),
  );
}

/** The list of sessions, kept current by server events. */
export function sessionsPage(context: AppContext, root: HTMLElement): () => void {
  const body = element('tbody');
  const empty = element('p', { class: 'muted' }, 'No sessions yet.');
  const load = () =>
    context.api
      .sessions()
      .then(({ sessions }) => {
        clear(body);
        for (const session of sessions) body.append(row(context, session));
        empty.hidden = sessions.length > 0;
      })
      .catch((error: unknown) => context.notice(String(error), 'error'));
  root.append(
    element(
      'section',
      { class: 'card' },
      element(
        'div',
        { class: 'toolbar' },
        element('h1', {}, 'Sessions'),
        element('a', { class: 'button', attributes: { href: '#/new', id: 'new-session' } }, 'New session'),
      ),
      element(
        'table',
        { class: 'list' },
        element(
          'thead',
          {},
          element(
            'tr',
            {},
            element('th', {}, 'Session'),
            element('th', {}, 'State'),
            element('th', {}, 'Agent'),
            element('th', { class: 'wide' }, 'Model'),
            element('th', {}, 'Age'),
            element('th', {}, 'Traffic'),
          ),
        ),
        body,
      ),
      empty,
    ),
  );
  void load();
  let timer: number | undefined;
  const unsubscribe = context.onEvent(() => {
    // Flows arrive in bursts: refresh at most a few times a second.
    timer ??= window.setTimeout(() => {
      timer = undefined;
      void load();
    }, 300);
  });
  return () => {
    unsubscribe();
    window.clearTimeout(timer);
  };
}
