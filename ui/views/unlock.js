// The unlock screen: shown while the encrypted database has no key. The first time without a
// keychain the person chooses a passphrase; later they give it. 112 and the alarm button stay
// on screen, and the plan can be read, while locked.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';

export function render(ctx) {
  const lock = ctx.locked;
  const root = h('div', { class: 'unlock', id: 'unlock' });
  if (lock.fatal) {
    const status = h('p', { class: 'save-status', role: 'status' });
    replace(root,
      h('h2', {}, t('unlock.fatal_title')),
      h('p', {}, t('unlock.fatal_help')),
      h('p', { class: 'detail', id: 'unlock-reason' }, lock.reason),
      h('button', {
        type: 'button', class: 'btn primary big', id: 'retry-unlock',
        onclick: async () => {
          try {
            if (await api.retryUnlock()) reopen();
            else replace(status, t('unlock.still_locked'));
          } catch (e) {
            replace(status, h('span', { class: 'error-text' }, e.message));
          }
        },
      }, t('unlock.retry')),
      status,
      planLink());
    return root;
  }
  const pass = h('input', { id: 'passphrase', type: 'password', autocomplete: lock.first_time ? 'new-password' : 'current-password' });
  const again = lock.first_time ? h('input', { id: 'passphrase-again', type: 'password', autocomplete: 'new-password' }) : null;
  const status = h('p', { class: 'save-status', id: 'unlock-status', role: 'status' });
  const button = h('button', { type: 'submit', class: 'btn primary big', id: 'unlock-submit' },
    lock.first_time ? t('unlock.create') : t('unlock.submit'));
  const form = h('form', { class: 'link-form', id: 'unlock-form' },
    h('h2', {}, lock.first_time ? t('unlock.choose_title') : t('unlock.title')),
    h('p', {}, lock.first_time ? t('unlock.choose_help') : t('unlock.help')),
    lock.reason ? h('p', { class: 'detail' }, lock.reason) : null,
    h('div', { class: 'field' }, h('label', { for: 'passphrase' }, t('unlock.passphrase')), pass),
    again ? h('div', { class: 'field' }, h('label', { for: 'passphrase-again' }, t('unlock.again')), again) : null,
    button, status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (again && pass.value !== again.value) {
      replace(status, h('span', { class: 'error-text' }, t('unlock.mismatch')));
      return;
    }
    button.disabled = true;
    replace(status, t('unlock.working'));
    let opened = false;
    try {
      await api.unlock(pass.value);
      opened = true;
      reopen();
    } catch (err) {
      const text = err.kind === 'wait' ? t('unlock.wait', { s: err.message })
        : err.kind === 'wrong_passphrase' ? t('unlock.wrong', { s: err.message })
          : `${t(`error.${err.kind}`)} ${err.message}`;
      replace(status, h('span', { class: 'error-text' }, text));
    } finally {
      // Opened: the page reloads; the form stays disabled until it is gone.
      button.disabled = opened;
      pass.value = '';
      if (again) again.value = '';
    }
  });
  replace(root, form, planLink());
  queueMicrotask(() => pass.focus());
  return root;
}

/** Starts the UI again on the unlocked app. */
function reopen() {
  location.replace('#/plan');
  location.reload();
}

function planLink() {
  return h('a', { class: 'btn secondary', href: '#/plan', id: 'locked-plan' }, t('unlock.read_plan'));
}
