import { ApiError } from '../api.js';
import type { AppContext } from '../app-context.js';
import { element } from '../dom.js';

function passwordField(id: string, label: string, autocomplete: string) {
  const input = element('input', {
    attributes: { id, type: 'password', autocomplete, required: '', minlength: '10', name: id },
  });
  return { input, row: element('label', { attributes: { for: id } }, label, input) };
}

/** First start: the link printed by `warren serve` carries the one-time token. */
export function setupPage(context: AppContext, root: HTMLElement, token: string): void {
  const first = passwordField('password', 'New password', 'new-password');
  const second = passwordField('password-again', 'Repeat it', 'new-password');
  const form = element(
    'form',
    { class: 'card narrow' },
    element('h1', {}, 'Choose the password'),
    element('p', {}, 'This is the only account. At least 10 characters; a few random words work well.'),
    first.row,
    second.row,
    element('button', { attributes: { type: 'submit' } }, 'Set password'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (first.input.value !== second.input.value) {
      context.notice('The two passwords differ.', 'error');
      return;
    }
    context.api
      .setup(token, first.input.value)
      .then(() => context.navigate('#/'))
      .catch((error: unknown) =>
        context.notice(error instanceof ApiError ? error.message : String(error), 'error'),
      );
  });
  root.append(form);
  first.input.focus();
}

export function loginPage(context: AppContext, root: HTMLElement): void {
  const field = passwordField('password', 'Password', 'current-password');
  const form = element(
    'form',
    { class: 'card narrow' },
    element('h1', {}, 'Warren'),
    field.row,
    element('button', { attributes: { type: 'submit' } }, 'Log in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    context.api
      .login(field.input.value)
      .then(() => context.navigate('#/'))
      .catch((error: unknown) => {
        const hint = error instanceof ApiError && error.hint ? ` (${error.hint})` : '';
        context.notice(error instanceof Error ? `${error.message}${hint}` : String(error), 'error');
      });
  });
  root.append(form);
  field.input.focus();
}
