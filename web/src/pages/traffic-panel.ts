import type { BodyView, FlowDetail, FlowSummary } from '../api.js';
import type { AppContext } from '../app-context.js';
import { clear, element, formatBytes } from '../dom.js';

function pathOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}

function headersTable(headers: [string, string][]): HTMLElement {
  return element(
    'table',
    { class: 'headers' },
    element(
      'tbody',
      {},
      ...headers.map(([name, value]) => element('tr', {}, element('th', {}, name), element('td', {}, value))),
    ),
  );
}

/** Bodies are shown as text in a <pre>, whatever their content type: never parsed, never rendered. */
function bodyView(title: string, body: BodyView): HTMLElement {
  const note = `${formatBytes(body.size)}${body.truncated ? ', cut' : ''}${body.encoding === 'base64' ? ', binary (base64)' : ''}`;
  return element(
    'div',
    { class: 'body' },
    element('h4', {}, `${title} body `, element('small', {}, note)),
    body.size === 0
      ? element('p', { class: 'muted' }, '(empty)')
      : element('pre', { class: 'body-text' }, body.data),
  );
}

function detailView(flow: FlowDetail): HTMLElement {
  return element(
    'div',
    { class: 'flow-detail' },
    element('p', { class: 'url' }, `${flow.method} ${flow.url}`),
    element(
      'p',
      { class: flow.decision === 'deny' ? 'refused' : 'muted' },
      `${flow.decision}: ${flow.reason}`,
    ),
    flow.error ? element('p', { class: 'refused' }, flow.error) : null,
    element('h4', {}, 'Request headers'),
    headersTable(flow.request.headers),
    bodyView('Request', flow.request.body),
    flow.response
      ? element(
          'div',
          {},
          element('h4', {}, `Response ${flow.response.status} ${flow.response.statusText}`),
          headersTable(flow.response.headers),
          bodyView('Response', flow.response.body),
        )
      : element('p', { class: 'muted' }, 'No response.'),
  );
}

/** The session's flows, newest last, appended live; a click shows headers and bodies. */
export function trafficPanel(
  context: AppContext,
  sessionId: string,
): { element: HTMLElement; dispose(): void } {
  const rows = element('tbody');
  const detail = element('div', { class: 'detail' });
  const seen = new Set<string>();
  const add = (flow: FlowSummary) => {
    if (seen.has(flow.id)) return;
    seen.add(flow.id);
    const show = () =>
      context.api
        .flow(sessionId, flow.id)
        .then(({ flow: full }) => {
          clear(detail);
          detail.append(detailView(full));
          detail.scrollIntoView({ block: 'nearest' });
        })
        .catch((error: unknown) => context.notice(String(error), 'error'));
    rows.append(
      element(
        'tr',
        {
          class: `flow ${flow.decision === 'deny' ? 'refused' : ''}`,
          attributes: { 'data-flow': flow.id, 'data-host': flow.host },
          on: { click: show },
        },
        element('td', {}, flow.method),
        element(
          'td',
          { class: 'host' },
          flow.port === 443 || flow.port === 80 ? flow.host : `${flow.host}:${flow.port}`,
        ),
        element('td', { class: 'path' }, pathOf(flow.url)),
        element('td', { class: 'status' }, flow.status ?? (flow.decision === 'deny' ? 'refused' : '—')),
        element('td', { class: 'number' }, formatBytes(flow.responseSize)),
        element('td', { class: 'number' }, flow.durationMs >= 0 ? `${Math.round(flow.durationMs)} ms` : '—'),
      ),
    );
  };
  context.api
    .flows(sessionId)
    .then(({ flows }) => flows.forEach(add))
    .catch((error: unknown) => context.notice(String(error), 'error'));
  const unsubscribe = context.onEvent((event) => {
    if (event.type === 'flow-recorded' && event.sessionId === sessionId && event.flow) add(event.flow);
  });
  const panel = element(
    'div',
    { class: 'traffic' },
    element(
      'table',
      { class: 'list flows' },
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          element('th', {}, 'Method'),
          element('th', {}, 'Host'),
          element('th', {}, 'Path'),
          element('th', {}, 'Status'),
          element('th', {}, 'Size'),
          element('th', {}, 'Time'),
        ),
      ),
      rows,
    ),
    detail,
  );
  return { element: panel, dispose: unsubscribe };
}
