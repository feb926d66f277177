import './style.css';
import { ApiError, LOGIN_ENDED_CLOSE_CODE, createApi, socketUrl } from './api.js';
import type { AppContext, ServerEvent } from './app-context.js';
import { clear, element } from './dom.js';
import { loginPage, setupPage } from './pages/auth-pages.js';
import { devicesPage } from './pages/devices-page.js';
import { newSessionPage } from './pages/new-session-page.js';
import { sessionPage } from './pages/session-page.js';
import { sessionsPage } from './pages/sessions-page.js';

/** Live events over one WebSocket, reconnected with back-off while logged in. */
function openEvents(
  onEvent: (event: ServerEvent) => void,
  onLoggedOut: (reason: string) => void,
): () => void {
  let socket: WebSocket | undefined;
  let closed = false;
  let retryMs = 500;
  const connect = () => {
    socket = new WebSocket(socketUrl('/api/events'));
    socket.onopen = () => (retryMs = 500);
    socket.onmessage = (message: MessageEvent<string>) => onEvent(JSON.parse(message.data) as ServerEvent);
    socket.onclose = (event) => {
      if (closed) return;
      if (event.code === LOGIN_ENDED_CLOSE_CODE) {
        closed = true;
        onLoggedOut(event.reason);
        return;
      }
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
  // Its own line, kept across pages: the server's store refuses records until the disk has room again.
  const storeBanner = element('div', { class: 'banner', attributes: { role: 'alert', id: 'store-banner' } });
  const storeTroubles = new Map<string, string>();
  const main = element('main');
  root.append(header, storeBanner, banner, main);
  const listeners = new Set<(event: ServerEvent) => void>([
    (event) => {
      if (event.type !== 'store-status' || !event.status) return;
      if (event.status.error !== undefined) storeTroubles.set(event.status.records, event.message ?? '');
      else storeTroubles.delete(event.status.records);
      storeBanner.textContent = [...storeTroubles.values()].join(' ');
      storeBanner.className = storeTroubles.size > 0 ? 'banner error' : 'banner';
    },
  ]);
  let closeEvents: (() => void) | undefined;
  let leavePage: (() => void) | undefined;
  /** Shown on the login page after a socket said this device was logged out. */
  let loggedOutNotice: string | undefined;
  /** Bumped by every route(); an older one still awaiting the server gives way to the newer. */
  let routeGeneration = 0;

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
    loggedOut(reason) {
      closeEvents?.();
      closeEvents = undefined;
      loggedOutNotice = `This device was logged out (${reason || 'login ended'}). Log in again.`;
      context.navigate('#/login');
    },
  };

  const route = async () => {
    const generation = ++routeGeneration;
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
      if (generation !== routeGeneration) return;
      if (error instanceof ApiError && error.status === 401) {
        closeEvents?.();
        closeEvents = undefined;
        header.hidden = true;
        const { needed } = await api.setupNeeded();
        if (generation !== routeGeneration) return;
        if (needed)
          context.notice(
            'No password is set yet: open the setup link printed by `warren serve`, or run `warren passwd`.',
            'info',
          );
        if (loggedOutNotice !== undefined) context.notice(loggedOutNotice, 'error');
        loggedOutNotice = undefined;
        loginPage(context, main);
        return;
      }
      context.notice(String(error), 'error');
      return;
    }
    if (generation !== routeGeneration) return;
    header.hidden = false;
    closeEvents ??= openEvents(
      (event) => listeners.forEach((listener) => listener(event)),
      (reason) => context.loggedOut(reason),
    );
    const session = /^\/sessions\/([\w-]+)$/.exec(hash);
    if (session) leavePage = sessionPage(context, main, session[1] as string);
    else if (hash === '/new') newSessionPage(context, main);
    else if (hash === '/devices') devicesPage(context, main);
    else leavePage = sessionsPage(context, main);
  };

  logout.addEventListener('click', () => {
    // Our own log out also closes our sockets with "logged out": close them first, so that it is
    // not shown as if another device had done it.
    closeEvents?.();
    closeEvents = undefined;
    leavePage?.();
    leavePage = undefined;
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
