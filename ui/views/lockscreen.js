// The lock screen: the PIN opens reports, notes and inventories again. The alarm button and
// 112 stay below it and work without the PIN.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { pinDialog, pinErrorText } from '../dialog.js';
import { put } from '../state.js';

export function render(ctx) {
  const input = h('input', {
    id: 'lock-pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: 8, pattern: '[0-9]*',
  });
  const status = h('p', { class: 'save-status', id: 'lock-status', role: 'status' });
  const button = h('button', { type: 'submit', class: 'btn primary big', id: 'lock-submit' }, t('lock.open'));
  const form = h('form', { class: 'link-form lock-form', id: 'lock-form' },
    h('h2', {}, t('lock.title')),
    h('p', {}, t('lock.help')),
    h('div', { class: 'field' }, h('label', { for: 'lock-pin' }, t('pin.label')), input),
    button, status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    replace(status, t('pin.checking'));
    try {
      await api.unlockScreen(input.value);
      put({ screenLocked: false });
      // What the lock kept from the window (sync, the check-in) comes now.
      ctx.afterUnlock?.();
      ctx.go('#/plan');
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, pinErrorText(err)));
    } finally {
      button.disabled = false;
      input.value = '';
    }
  });
  queueMicrotask(() => input.focus());
  // Quitting behind the lock needs the PIN too (so does the tray's Avsluta and the window's
  // close button): whoever has a minute at the laptop cannot switch the alarm off.
  const quit = h('button', {
    type: 'button', class: 'btn secondary', id: 'lock-quit',
    onclick: () => pinDialog(t('lock.quit_title'), t('lock.quit'), (pin) => api.quitApp(pin), { hint: t('lock.quit_hint') }),
  }, t('lock.quit'));
  return h('div', { class: 'unlock', id: 'lockscreen' }, form, quit);
}
