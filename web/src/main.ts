import './style.css';
import { ApiError, createApi, socketUrl } from './api.js';
import type { AppContext, ServerEvent } from './app-context.js';
import { clear, element } from './dom.js';
import { loginPage, setupPage } from './pages/auth-pages.js';
import { devicesPage } from './pages/devices-page.js';
import { newSessionPage } from './pages/new-session-page.js';
import { sessionPage } from './pages/session-page.js';
import { sessionsPage } from './pages/sessions-page.js';

/** Live events over one WebSocket, reconnected with back-off while logged in. */
function openEvents(onEvent: (event: ServerEvent) => void): () => void {
  let socket: WebSocket | undefined;
  let closed = false;
  let retryMs = 500;
  const connect = () => {
    socket = new WebSocket(socketUrl('/api/events'));
    socket.onopen = () => (retryMs = 500);
    socket.onmessage = (message: MessageEvent<string>) => onEvent(JSON.parse(message.data) as ServerEvent);
    socket.onclose = () => {
      if (closed) return;
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };
  connect();
  return () => {
    closed = true;
    socket?.close();
  };
}

function start(): void {
  const api = createApi();
  const root = document.getElementById('app') as HTMLElement;
  const banner = element('div', { class: 'banner', attributes: { role: 'status', id: 'banner' } });
  const logout = element('button', { attributes: { type: 'button', id: 'logout' } }, 'Log out');
  const notifications = element(
    'button',
    { attributes: { type: 'button', id: 'notifications' } },
    'Notify me',
  );
  const header = element(
    'header',
    {},
    element('a', { class: 'brand', attributes: { href: '#/' } }, 'Warren'),
    element('span', { class: 'spacer' }),
    element('a', { class: 'button', attributes: { href: '#/devices', id: 'devices' } }, 'Devices'),
    notifications,
    logout,
  );
  const main = element('main');
  root.append(header, banner, main);
  const listeners = new Set<(event: ServerEvent) => void>();
  let closeEvents: (() => void) | undefined;
  let leavePage: (() => void) | undefined;

  const context: AppContext = {
    api,
    navigate(hash) {
      if (location.hash === hash) void route();
      else location.hash = hash;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notice(message, kind = 'info') {
      banner.textContent = message;
      banner.className = `banner ${kind}`;
    },
  };

  const route = async () => {
    leavePage?.();
    leavePage = undefined;
    clear(main);
    banner.textContent = '';
    banner.className = 'banner';
    const hash = location.hash.replace(/^#/, '') || '/';
    const setup = /^\/setup\/([\w-]+)$/.exec(hash);
    if (setup) {
      header.hidden = true;
      setupPage(context, main, setup[1] as string);
      return;
    }
    try {
      await api.me();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        closeEvents?.();
        closeEvents = undefined;
        header.hidden = true;
        const { needed } = await api.setupNeeded();
        if (needed)
          context.notice(
            'No password is set yet: open the setup link printed by `warren serve`, or run `warren passwd`.',
            'info',
          );
        loginPage(context, main);
        return;
      }
      context.notice(String(error), 'error');
      return;
    }
    header.hidden = false;
    closeEvents ??= openEvents((event) => listeners.forEach((listener) => listener(event)));
    const session = /^\/sessions\/([\w-]+)$/.exec(hash);
    if (session) leavePage = sessionPage(context, main, session[1] as string);
    else if (hash === '/new') newSessionPage(context, main);
    else if (hash === '/devices') devicesPage(context, main);
    else leavePage = sessionsPage(context, main);
  };

  logout.addEventListener('click', () => {
    api
      .logout()
      .catch(() => undefined)
      .finally(() => {
        closeEvents?.();
        closeEvents = undefined;
        context.navigate('#/login');
      });
  });
  notifications.hidden = !('Notification' in window) || Notification.permission !== 'default';
  notifications.addEventListener('click', () => {
    void Notification.requestPermission().then(() => (notifications.hidden = true));
  });
  window.addEventListener('hashchange', () => void route());
  void route();
}

start();
