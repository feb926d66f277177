import { ApiError } from '../api.js';
import type { AppContext } from '../app-context.js';
import { element, formatBytes } from '../dom.js';

function labelled(id: string, label: string, control: HTMLElement, note?: string): HTMLElement {
  control.id = id;
  return element(
    'label',
    { attributes: { for: id } },
    label,
    control,
    note ? element('small', {}, note) : null,
  );
}

function lines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

export function newSessionPage(context: AppContext, root: HTMLElement): void {
  const agent = element('select', { attributes: { name: 'agent' } });
  const command = element('input', {
    attributes: { name: 'command', placeholder: 'e.g. make test', autocomplete: 'off' },
  });
  const model = element('input', {
    attributes: { name: 'model', list: 'models', autocomplete: 'off', placeholder: 'default' },
  });
  const models = element('datalist', { attributes: { id: 'models' } });
  const workspaceKind = element(
    'select',
    { attributes: { name: 'workspace' } },
    element('option', { attributes: { value: 'empty' } }, 'Empty folder'),
    element('option', { attributes: { value: 'copy' } }, 'Copy of a folder on the server'),
    element('option', { attributes: { value: 'clone' } }, 'Clone of a git repository'),
  );
  const workspacePath = element('input', {
    attributes: { name: 'path', placeholder: '/home/me/project or a git URL' },
  });
  const inPlace = element('input', { attributes: { type: 'checkbox', name: 'in-place' } });
  const allow = element('textarea', {
    attributes: { name: 'allow', rows: '3', placeholder: 'github.com\n*.npmjs.org' },
  });
  const deny = element('textarea', { attributes: { name: 'deny', rows: '2' } });
  // Placeholders show the defaults once /api/presets answers; an empty field takes the default.
  const memory = element('input', { attributes: { name: 'memory', placeholder: 'e.g. 4g' } });
  const pids = element('input', { attributes: { name: 'pids', type: 'number', min: '4' } });
  const tmpSize = element('input', { attributes: { name: 'tmpSize', placeholder: 'e.g. 2g' } });
  const homeSize = element('input', { attributes: { name: 'homeSize', placeholder: 'e.g. 2g' } });
  const shmSize = element('input', { attributes: { name: 'shmSize', placeholder: 'e.g. 512m' } });
  const limitFields: Record<string, HTMLInputElement> = {
    memoryBytes: memory,
    pids,
    tmpBytes: tmpSize,
    homeBytes: homeSize,
    shmBytes: shmSize,
  };
  const gpu = element('input', { attributes: { type: 'checkbox', name: 'gpu', id: 'gpu' } });
  const gpuRow = element(
    'label',
    { class: 'inline', attributes: { for: 'gpu' } },
    gpu,
    "Give the session the server's GPUs",
  );
  const nested = element('input', {
    attributes: { type: 'checkbox', name: 'nestedContainers', id: 'nestedContainers' },
  });
  const nestedRow = element(
    'label',
    { class: 'inline', attributes: { for: 'nestedContainers' } },
    nested,
    'Let the agent run containers inside the session (podman)',
  );
  // Filled from /api/presets; until then (or if that fails) the request names no caches and gets the defaults.
  const cacheBoxes: HTMLInputElement[] = [];
  const cachesRow = element(
    'fieldset',
    { attributes: { id: 'caches' } },
    element('legend', {}, 'Shared package caches'),
    element('small', {}, 'shared with every session that picks them: pick them only for sessions you trust'),
  );
  const commandRow = labelled('command', 'Command', command, 'run by /bin/sh -c');
  const pathRow = labelled('workspace-path', 'Folder or repository', workspacePath);
  const inPlaceRow = element(
    'label',
    { class: 'inline' },
    inPlace,
    'Use the folder in place (the agent can change it directly)',
  );
  const update = () => {
    commandRow.hidden = agent.value !== 'custom';
    pathRow.hidden = workspaceKind.value === 'empty';
    inPlaceRow.hidden = workspaceKind.value !== 'copy';
  };
  agent.addEventListener('change', update);
  workspaceKind.addEventListener('change', update);
  const submit = element('button', { attributes: { type: 'submit', id: 'start-session' } }, 'Start');
  const form = element(
    'form',
    { class: 'card' },
    element('h1', {}, 'New session'),
    labelled('agent', 'Agent', agent),
    commandRow,
    labelled('model', 'Model', model),
    models,
    labelled('workspace', 'Workspace', workspaceKind),
    pathRow,
    inPlaceRow,
    labelled(
      'allow',
      'Allow hosts',
      allow,
      'one per line: host, *.domain, IP or CIDR, optional :port; added to the configured rules',
    ),
    labelled('deny', 'Deny hosts', deny),
    element(
      'fieldset',
      { attributes: { id: 'limits' } },
      element('legend', {}, 'Limits'),
      element(
        'div',
        { class: 'row' },
        labelled('memory', 'Memory', memory),
        labelled('pids', 'Processes', pids),
      ),
      element(
        'div',
        { class: 'row' },
        labelled('tmp-size', '/tmp', tmpSize),
        labelled('home-size', 'Home', homeSize),
        labelled('shm-size', '/dev/shm', shmSize),
      ),
      element(
        'small',
        {},
        "empty: the default shown; a value you set is enforced or the session does not start, a default only where the server can (the session's page says)",
      ),
    ),
    gpuRow,
    nestedRow,
    cachesRow,
    submit,
  );
  context.api
    .presets()
    .then(({ presets, models: names, caches, limits }) => {
      for (const entry of limits) {
        const field = limitFields[entry.limit];
        if (!field) continue;
        const shown = entry.limit === 'pids' ? String(entry.value) : formatBytes(entry.value);
        field.placeholder = `${shown} (${entry.source === 'config' ? 'configured' : 'default'})`;
      }
      for (const cache of caches) {
        const box = element('input', {
          attributes: { type: 'checkbox', name: 'cache', value: cache.kind, id: `cache-${cache.kind}` },
        });
        box.checked = cache.default;
        cacheBoxes.push(box);
        cachesRow.append(
          element(
            'label',
            { class: 'inline', attributes: { for: box.id, title: cache.explain } },
            box,
            cache.kind,
          ),
        );
      }
      for (const preset of presets)
        agent.append(element('option', { attributes: { value: preset.name } }, preset.title));
      agent.append(element('option', { attributes: { value: 'custom' } }, 'Custom command'));
      for (const name of names) models.append(element('option', { attributes: { value: name } }));
      update();
    })
    .catch((error: unknown) => context.notice(String(error), 'error'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const kind = workspaceKind.value;
    const workspace =
      kind === 'empty'
        ? { kind }
        : kind === 'clone'
          ? { kind, url: workspacePath.value.trim() }
          : { kind: inPlace.checked ? 'in-place' : 'copy', path: workspacePath.value.trim() };
    const terminalArea = document.body.getBoundingClientRect();
    submit.disabled = true;
    context.api
      .createSession({
        agent: agent.value,
        ...(agent.value === 'custom' ? { command: command.value } : {}),
        ...(model.value.trim() ? { model: model.value.trim() } : {}),
        workspace,
        allow: lines(allow.value),
        deny: lines(deny.value),
        limits: {
          ...(memory.value.trim() ? { memory: memory.value.trim() } : {}),
          ...(pids.value ? { pids: Number(pids.value) } : {}),
          ...(tmpSize.value.trim() ? { tmpSize: tmpSize.value.trim() } : {}),
          ...(homeSize.value.trim() ? { homeSize: homeSize.value.trim() } : {}),
          ...(shmSize.value.trim() ? { shmSize: shmSize.value.trim() } : {}),
        },
        gpu: gpu.checked,
        nestedContainers: nested.checked,
        ...(cacheBoxes.length > 0
          ? { caches: cacheBoxes.filter((box) => box.checked).map((box) => box.value) }
          : {}),
        cols: Math.max(20, Math.min(250, Math.floor((terminalArea.width - 24) / 8.5))),
        rows: 30,
      })
      .then(({ session }) => context.navigate(`#/sessions/${session.id}`))
      .catch((error: unknown) => {
        submit.disabled = false;
        const hint = error instanceof ApiError && error.hint ? ` (${error.hint})` : '';
        context.notice(`${error instanceof Error ? error.message : String(error)}${hint}`, 'error');
      });
  });
  root.append(form);
}
