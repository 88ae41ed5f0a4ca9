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

/** For the call, large enough to read under stress: the plan's lines under "Tänk på när du
 * ringer" (advice, not words to say), and Värn's own lines under "Det här kan du säga",
 * marked as Värn's (never passed off as the plan's). */
function scriptBlock(script) {
  if (!script?.length) return null;
  const plan = script.filter((l) => !l.own);
  const own = script.filter((l) => l.own);
  return h('section', { class: 'call-script', id: 'call-script' },
    own.length ? h('div', { class: 'script-own', id: 'script-own' },
      h('h3', { id: 'call-script-title' }, t('call.script_title')),
      h('p', { class: 'script-own-title' }, t('call.own_help')),
      h('ol', {}, own.map((l) => h('li', {}, l.text)))) : null,
    plan.length ? h('div', { class: 'script-plan-part', id: 'script-plan' },
      h('h3', { id: 'call-plan-title' }, t('call.plan_title')),
      h('ol', { class: 'script-plan' }, plan.map((l) => h('li', {}, l.text)))) : null);
}

/**
 * A number the region changed in its newer profile, shown once before it is used. Resolves
 * true when the person wants to call the new number.
 */
export function numberChangedDialog(contact, notice) {
  return new Promise((resolve) => {
    const dialog = open([
      h('h2', { id: 'notice-title' }, t('notice.title', { name: pick(contact.name) })),
      h('p', { class: 'notice-body' }, t('notice.body')),
      h('dl', { class: 'notice-numbers' },
        h('dt', {}, t('notice.before')), h('dd', { class: 'old', id: 'notice-old' }, notice.old_number),
        h('dt', {}, t('notice.now')), h('dd', { class: 'new', id: 'notice-new' }, notice.new_number)),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', id: 'notice-cancel', onclick: () => dialog.close('no') }, t('dialog.cancel')),
        h('button', { type: 'button', class: 'btn primary', id: 'notice-call', onclick: () => dialog.close('yes') },
          icon('phone'), t('notice.call'))),
    ], { labelledBy: 'notice-title', onClose: (v) => resolve(v === 'yes') });
  });
}

/** The call went to the system's dialer: what to say while it rings. */
export function showScript(contact, script) {
  const dialog = open([
    h('h2', { id: 'script-title', class: 'number-name' }, t('call.calling', { name: pick(contact.name) })),
    scriptBlock(script),
    h('button', { type: 'button', class: 'btn secondary', id: 'script-close', onclick: () => dialog.close('close') }, t('dialog.close')),
  ], { labelledBy: 'script-title' });
  return dialog;
}

/**
 * Asks for the PIN. `submit(pin)` does the work; if it throws, its message is shown and the
 * dialog stays open for another try. Resolves with submit's result, or null if closed.
 */
export function pinDialog(title, confirmLabel, submit, { danger = false, hint = '', cancelLabel = null } = {}) {
  return new Promise((resolve) => {
    let result = null;
    const input = h('input', {
      id: 'pin-entry', type: 'password', inputmode: 'numeric', autocomplete: 'off',
      maxlength: 8, pattern: '[0-9]*', 'aria-labelledby': 'pin-title',
    });
    const status = h('p', { class: 'save-status', id: 'pin-status', role: 'status' });
    const ok = h('button', { type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}`, id: 'pin-submit' }, confirmLabel);
    const form = h('form', { method: 'dialog', class: 'pin-form' },
      h('h2', { id: 'pin-title' }, title),
      hint ? h('p', {}, hint) : null,
      h('label', { for: 'pin-entry' }, t('pin.label')), input, status,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', id: 'pin-cancel', onclick: () => dialog.close('no') }, cancelLabel ?? t('dialog.cancel')),
        ok));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      ok.disabled = true;
      replace(status, t('pin.checking'));
      try {
        result = await submit(input.value);
        dialog.close('yes');
      } catch (err) {
        replace(status, h('span', { class: 'error-text' }, pinErrorText(err)));
        input.value = '';
        input.focus();
      } finally {
        ok.disabled = false;
      }
    });
    const dialog = open([form], { labelledBy: 'pin-title', onClose: () => resolve(result) });
    input.focus();
  });
}

/** Words a PIN error: wrong (and how long to wait), a wait, or anything else. */
export function pinErrorText(err) {
  const s = Number(err?.message);
  if (err?.kind === 'wrong_pin') return s > 0 ? t('pin.wrong_wait', { s }) : t('pin.wrong');
  if (err?.kind === 'pin_wait') return t('pin.wait', { s });
  const kind = err?.kind ?? 'ipc';
  return `${t(`error.${kind}`)} ${err?.message ?? ''}`;
}

/** When the computer cannot place the call: what to do (ring from the mobile) and the number
 * huge, to dial from it; copying is a small extra. */
export function showNumber(contact, { reason = 'no_dialer', script = [] } = {}) {
  const copied = h('p', { class: 'copied', role: 'status' });
  const close = h('button', { type: 'button', class: 'btn secondary', id: 'number-close', onclick: () => dialog.close('close') }, t('dialog.close'));
  const content = [
    h('h2', { id: 'number-title', class: 'number-name' }, pick(contact.name)),
    contact.person ? h('p', { class: 'number-person' }, contact.person) : null,
    h('p', { class: 'number-hint', id: 'number-hint' }, t(`number.${reason}`)),
    h('p', { class: 'number-huge', id: 'number-huge' }, contact.number ?? contact.url ?? ''),
    contact.number ? h('button', {
      type: 'button', class: 'btn secondary', id: 'copy-number',
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
    scriptBlock(script),
    close,
  ];
  const dialog = open(content, { labelledBy: 'number-title' });
  return dialog;
}

/** Asks a yes/no question; resolves true when confirmed. `cancelLabel` names what "no" keeps
 * (where "Avbryt" would read as the action itself). */
export function confirmDialog(question, confirmLabel, { danger = false, cancelLabel = null } = {}) {
  return new Promise((resolve) => {
    const dialog = open([
      h('h2', { id: 'confirm-title' }, question),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', id: 'confirm-no', onclick: () => dialog.close('no') }, cancelLabel ?? t('dialog.cancel')),
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
