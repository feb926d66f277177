import type { AppContext } from '../app-context.js';
import { clear, element } from '../dom.js';

/** The rules in force, the hosts this session was refused, and "allow this host" for each. */
export function policyPanel(
  context: AppContext,
  sessionId: string,
): { element: HTMLElement; refresh(): void } {
  const panel = element('div', { class: 'policy' });
  const refresh = () =>
    context.api
      .policy(sessionId)
      .then((view) => {
        clear(panel);
        const list = (title: string, items: string[]) =>
          element(
            'div',
            {},
            element('h4', {}, title),
            items.length
              ? element('ul', {}, ...items.map((item) => element('li', {}, item)))
              : element('p', { class: 'muted' }, 'none'),
          );
        panel.append(
          list('Allowed for this session', view.sessionAllow),
          list('Denied for this session', view.sessionDeny),
          list('Allowed while running', view.liveAllowed),
          element('h4', {}, 'Refused hosts'),
          view.refused.length === 0
            ? element('p', { class: 'muted' }, 'none so far')
            : element(
                'ul',
                { class: 'refused-hosts' },
                ...view.refused.map((entry) => {
                  const rule =
                    entry.port === 443 || entry.port === 80 ? entry.host : `${entry.host}:${entry.port}`;
                  const button = element(
                    'button',
                    { attributes: { type: 'button' } },
                    'Allow for this session',
                  );
                  button.disabled = !view.canUpdateLive;
                  button.title = view.canUpdateLive
                    ? `adds the rule ${rule}`
                    : 'this session cannot change its policy while running';
                  button.addEventListener('click', () => {
                    context.api
                      .allowHost(sessionId, rule)
                      .then(refresh)
                      .catch((error: unknown) =>
                        context.notice(error instanceof Error ? error.message : String(error), 'error'),
                      );
                  });
                  return element(
                    'li',
                    { class: 'refused' },
                    element('strong', {}, rule),
                    ` ×${entry.count} — ${entry.reason} `,
                    button,
                  );
                }),
              ),
          element('h4', {}, 'Rules in force'),
          element('pre', {}, JSON.stringify(view.policy, null, 2)),
        );
      })
      .catch((error: unknown) => context.notice(String(error), 'error'));
  void refresh();
  return { element: panel, refresh: () => void refresh() };
}
