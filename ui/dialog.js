// Modal dialogs: the big phone number, confirmations and error messages.

import { h, replace, icon } from './dom.js';
import { t, pick } from './i18n.js';

function open(content, { labelledBy, onClose } = {}) {
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': labelledBy });
  replace(dialog, content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose?.(dialog.returnValue);
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

/** Shows a contact's number huge, with copy, for when the computer cannot place the call. */
export function showNumber(contact, { reason = 'no_dialer' } = {}) {
  const copied = h('p', { class: 'copied', role: 'status' });
  const close = h('button', { type: 'button', class: 'btn secondary', onclick: () => dialog.close('close') }, t('dialog.close'));
  const content = [
    h('h2', { id: 'number-title', class: 'number-name' }, pick(contact.name)),
    contact.person ? h('p', { class: 'number-person' }, contact.person) : null,
    h('p', { class: 'number-huge', id: 'number-huge' }, contact.number ?? contact.url ?? ''),
    h('p', { class: 'number-hint' }, t(`number.${reason}`)),
    contact.number ? h('button', {
      type: 'button', class: 'btn primary big', id: 'copy-number',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(contact.number);
          replace(copied, t('number.copied'));
        } catch {
          replace(copied, t('number.copy_failed'));
        }
      },
    }, icon('copy'), t('number.copy')) : null,
    copied,
    close,
  ];
  const dialog = open(content, { labelledBy: 'number-title' });
  return dialog;
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog(question, confirmLabel, { danger = false } = {}) {
  return new Promise((resolve) => {
    const dialog = open([
      h('h2', { id: 'confirm-title' }, question),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', id: 'confirm-no', onclick: () => dialog.close('no') }, t('dialog.cancel')),
        h('button', { type: 'button', class: `btn ${danger ? 'danger' : 'primary'}`, id: 'confirm-yes', onclick: () => dialog.close('yes') }, confirmLabel)),
    ], { labelledBy: 'confirm-title', onClose: (v) => resolve(v === 'yes') });
  });
}

/** Shows an error from a command: the localised text for its kind, and the detail. */
export function showError(e) {
  const kind = e?.kind ?? 'ipc';
  const known = t(`error.${kind}`) !== `error.${kind}`;
  const dialog = open([
    h('h2', { id: 'error-title' }, known ? t(`error.${kind}`) : t('error.ipc')),
    e?.message ? h('p', { class: 'detail' }, e.message) : null,
    h('button', { type: 'button', class: 'btn primary', onclick: () => dialog.close() }, t('dialog.close')),
  ], { labelledBy: 'error-title' });
}
