import type { SessionView } from '../api.js';
import type { AppContext } from '../app-context.js';
import { clear, element, formatAge } from '../dom.js';
import { openTerminalView, type TerminalView } from '../terminal-view.js';
import { policyPanel } from './policy-panel.js';
import { renderProtectedPaths } from './protected-paths-panel.js';
import { trafficPanel } from './traffic-panel.js';

/** After this long without output, a session in a hidden tab is probably waiting for its user. */
const QUIET_NOTIFY_MS = 30_000;

function notify(title: string, body: string): void {
  if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
    new Notification(title, { body, tag: title });
  }
}

function keyRow(terminal: () => TerminalView | undefined): HTMLElement {
  // Short faces fit eight keys on a phone; the full name is the accessible label.
  const key = (label: string, data: () => string, face = label) =>
    element(
      'button',
      {
        attributes: { type: 'button', 'aria-label': label, title: label },
        on: { click: () => terminal()?.sendKeys(data()) },
      },
      face,
    );
  return element(
    'div',
    { class: 'key-row' },
    key('Esc', () => '\x1b'),
    key('Tab', () => '\t'),
    key('Ctrl-C', () => '\x03', '^C'),
    key('←', () => terminal()?.arrow('D') ?? ''),
    key('↑', () => terminal()?.arrow('A') ?? ''),
    key('↓', () => terminal()?.arrow('B') ?? ''),
    key('→', () => terminal()?.arrow('C') ?? ''),
    key('Enter', () => '\r', '⏎'),
  );
}

interface UsageRow {
  key: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  averageLatencyMs: number;
  /** Calls whose model was told another vendor's identity. */
  identityWarnings?: number;
}

interface RecentCall {
  upstream: string | null;
  identityClaims?: string[];
}

/**
 * Another vendor's identity that reached a model in this session ("You are Codex, …" sent to grok-4):
 * a prompt wording the gateway does not rewrite. The claims come from the recent calls.
 */
function identityWarning(rows: UsageRow[], recent: RecentCall[]): HTMLElement | undefined {
  const calls = rows.reduce((sum, row) => sum + (row.identityWarnings ?? 0), 0);
  if (calls === 0) return undefined;
  const claims = new Set<string>();
  for (const call of recent)
    for (const claim of call.identityClaims ?? []) claims.add(`${call.upstream ?? '?'}: “${claim}”`);
  return element(
    'div',
    { class: 'banner error', attributes: { id: 'identity-warning' } },
    element(
      'p',
      {},
      `Warning: in ${calls} call${calls === 1 ? '' : 's'} the model was told another vendor's identity (a prompt wording the gateway does not rewrite).`,
    ),
    ...[...claims].slice(0, 5).map((claim) => element('p', { class: 'muted' }, claim)),
  );
}

/** Model calls this session made through the gateway, per model. */
function renderUsage(box: HTMLElement, view: { available: boolean; usage: unknown }): void {
  clear(box);
  const usage = view.usage as { byModel?: UsageRow[]; recent?: RecentCall[] } | null;
  const rows = (usage?.byModel ?? []).filter((row) => row.requests > 0);
  if (!view.available || rows.length === 0) {
    box.append(
      element(
        'p',
        { class: 'muted' },
        view.available ? 'No model calls yet.' : 'No model gateway runs in this server.',
      ),
    );
    return;
  }
  const cell = (value: string | number) =>
    element('td', { class: typeof value === 'number' ? 'number' : '' }, value);
  const warning = identityWarning(rows, usage?.recent ?? []);
  if (warning) box.append(warning);
  box.append(
    element(
      'table',
      { class: 'list' },
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          ...['Model', 'Calls', 'Errors', 'Input tokens', 'Output tokens', 'Avg latency'].map((name) =>
            element('th', {}, name),
          ),
        ),
      ),
      element(
        'tbody',
        {},
        ...rows.map((row) =>
          element(
            'tr',
            {},
            cell(row.key),
            cell(row.requests),
            cell(row.errors),
            cell(row.inputTokens),
            cell(row.outputTokens),
            cell(`${Math.round(row.averageLatencyMs)} ms`),
          ),
        ),
      ),
    ),
  );
}

export function sessionPage(context: AppContext, root: HTMLElement, sessionId: string): () => void {
  const title = element('h1', {}, sessionId);
  const state = element('span', { class: 'state', attributes: { id: 'session-state' } });
  const status = element('span', { class: 'muted', attributes: { id: 'terminal-status' } });
  const terminalBox = element('div', { class: 'terminal', attributes: { id: 'terminal' } });
  const protectedPaths = element('section', {
    class: 'protected-paths',
    attributes: { id: 'protected-paths', hidden: '' },
  });
  const usage = element('div', { class: 'usage' });
  let terminal: TerminalView | undefined;
  let quietTimer: number | undefined;
  let lastOutputAt = 0;
  const traffic = trafficPanel(context, sessionId);
  const policy = policyPanel(context, sessionId);
  const stop = element('button', { attributes: { type: 'button', id: 'stop-session' } }, 'Stop');
  const remove = element(
    'button',
    { attributes: { type: 'button', id: 'delete-session' }, class: 'danger' },
    'Delete',
  );
  const download = (label: string, path: string) =>
    element(
      'a',
      {
        class: 'button',
        attributes: { href: `/api/sessions/${encodeURIComponent(sessionId)}/${path}`, download: '' },
      },
      label,
    );
  const tabs: Record<string, HTMLElement> = {
    Traffic: traffic.element,
    Policy: policy.element,
    Usage: usage,
    Downloads: element(
      'div',
      { class: 'downloads' },
      download('HAR', 'har'),
      download('TLS key log', 'keylog'),
      download('Terminal recording', 'recording'),
    ),
  };
  const tabBody = element('div', { class: 'tab-body' });
  const tabBar = element('div', { class: 'tabs', attributes: { role: 'tablist' } });
  const showTab = (name: string) => {
    clear(tabBody);
    tabBody.append(tabs[name] as HTMLElement);
    for (const button of tabBar.querySelectorAll('button'))
      button.classList.toggle('active', button.textContent === name);
    if (name === 'Policy') policy.refresh();
    if (name === 'Usage') {
      context.api
        .usage(sessionId)
        .then((view) => renderUsage(usage, view))
        .catch((error: unknown) => context.notice(String(error), 'error'));
    }
  };
  for (const name of Object.keys(tabs)) {
    tabBar.append(
      element(
        'button',
        { attributes: { type: 'button', role: 'tab', 'data-tab': name }, on: { click: () => showTab(name) } },
        name,
      ),
    );
  }
  const render = (session: SessionView) => {
    title.textContent = `${session.agent} · ${session.id}`;
    state.textContent = session.state === 'ended' ? `ended (exit ${session.exitCode ?? '?'})` : session.state;
    state.className = `state state-${session.state}`;
    stop.disabled = session.state !== 'running' || !session.attachable;
    renderProtectedPaths(protectedPaths, session.protectedPaths);
  };
  stop.addEventListener('click', () => {
    context.api
      .stopSession(sessionId)
      .then(({ session }) => render(session))
      .catch((error: unknown) => context.notice(String(error), 'error'));
  });
  remove.addEventListener('click', () => {
    if (!window.confirm('Delete this session, its traffic and its workspace copy?')) return;
    context.api
      .deleteSession(sessionId)
      .then(() => context.navigate('#/'))
      .catch((error: unknown) => context.notice(String(error), 'error'));
  });
  root.append(
    element(
      'section',
      { class: 'session-page' },
      element(
        'div',
        { class: 'toolbar' },
        element('a', { attributes: { href: '#/' } }, '← Sessions'),
        title,
        state,
        status,
        stop,
        remove,
      ),
      protectedPaths,
      terminalBox,
      keyRow(() => terminal),
      tabBar,
      tabBody,
    ),
  );
  showTab('Traffic');
  context.api
    .session(sessionId)
    .then(({ session }) => {
      render(session);
      const { recording } = session;
      if (recording.metadataOnly > 0 || recording.droppedBytes > 0)
        context.notice(
          `Recording limits reached: ${recording.metadataOnly} of ${recording.flows} flows kept as metadata only, ` +
            `${recording.droppedBytes} bytes of headers and bodies not recorded (proxy.recordingBudgetBytes, proxy.headerCapBytes)`,
        );
      if (session.unenforcedLimits.length > 0)
        context.notice(
          `Default limits not enforced for this session: ${session.unenforcedLimits
            .map((entry) => `${entry.limit} (${entry.reason})`)
            .join(', ')}`,
        );
      if (!session.attachable) {
        status.textContent =
          session.state === 'running'
            ? 'running in another process'
            : `no live terminal (${formatAge(session.createdAt)} old); the recording is under Downloads`;
        return;
      }
      terminal = openTerminalView({
        sessionId,
        container: terminalBox,
        onStatus: (text) => (status.textContent = text),
        onLoggedOut: (reason) => context.loggedOut(reason),
        onOutput: () => {
          lastOutputAt = Date.now();
          window.clearTimeout(quietTimer);
          quietTimer = window.setTimeout(
            () => notify(`Warren: ${sessionId} is quiet`, 'It may be waiting for input.'),
            QUIET_NOTIFY_MS,
          );
        },
        onExit: (code, signal) => {
          window.clearTimeout(quietTimer);
          status.textContent = signal ? `ended by ${signal}` : `ended with status ${code ?? '?'}`;
          void context.api.session(sessionId).then(({ session: latest }) => render(latest));
          if (Date.now() - lastOutputAt < 60 * 60 * 1000)
            notify(`Warren: ${sessionId} ended`, status.textContent);
        },
      });
      terminal.focus();
    })
    .catch((error: unknown) => context.notice(String(error), 'error'));
  const unsubscribe = context.onEvent((event) => {
    if (event.type === 'session-ended' && event.session?.id === sessionId) {
      void context.api.session(sessionId).then(({ session }) => render(session));
    }
  });
  return () => {
    unsubscribe();
    traffic.dispose();
    window.clearTimeout(quietTimer);
    terminal?.dispose();
  };
}
