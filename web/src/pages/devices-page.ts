import type { AppContext } from '../app-context.js';
import { clear, element, formatAge } from '../dom.js';

/** Where this account is logged in; any other device can be logged out from here. */
export function devicesPage(context: AppContext, root: HTMLElement): void {
  const body = element('tbody');
  const load = () =>
    context.api
      .logins()
      .then(({ logins }) => {
        clear(body);
        for (const login of logins) {
          const logout = element('button', { attributes: { type: 'button' } }, 'Log out');
          logout.hidden = login.current;
          logout.addEventListener('click', () => {
            context.api
              .revokeLogin(login.id)
              .then(load)
              .catch((error: unknown) => context.notice(String(error), 'error'));
          });
          body.append(
            element(
              'tr',
              { class: login.current ? 'current' : '' },
              element('td', {}, login.current ? `${login.userAgent} (this device)` : login.userAgent),
              element('td', {}, login.address),
              element('td', {}, `${formatAge(login.lastSeenAt)} ago`),
              element('td', {}, logout),
            ),
          );
        }
      })
      .catch((error: unknown) => context.notice(String(error), 'error'));
  const others = element(
    'button',
    { attributes: { type: 'button', id: 'logout-others' } },
    'Log out all other devices',
  );
  others.addEventListener('click', () => {
    context.api
      .revokeOtherLogins()
      .then(({ revoked }) => {
        context.notice(`${revoked} other device(s) logged out.`, 'info');
        return load();
      })
      .catch((error: unknown) => context.notice(String(error), 'error'));
  });
  root.append(
    element(
      'section',
      { class: 'card' },
      element('div', { class: 'toolbar' }, element('h1', {}, 'Logged-in devices'), others),
      element(
        'table',
        { class: 'list' },
        element(
          'thead',
          {},
          element(
            'tr',
            {},
            element('th', {}, 'Browser'),
            element('th', {}, 'Address'),
            element('th', {}, 'Last seen'),
            element('th', {}, ''),
          ),
        ),
        body,
      ),
    ),
  );
  void load();
}
