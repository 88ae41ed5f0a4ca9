// Inställningar: the link to the region's server, the alarm shortcut, language, and what
// profile and version are in use.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t, currentLang, pick } from '../i18n.js';
import { confirmDialog, pinDialog, pinErrorText } from '../dialog.js';
import { backLink } from './common.js';
import { put } from '../state.js';

export function render(ctx) {
  const lang = currentLang();
  const choice = (code) => h('label', { class: 'radio' },
    h('input', {
      type: 'radio', name: 'lang', value: code, id: `lang-${code}`, checked: lang === code,
      onchange: () => ctx.setLanguage(code).catch(ctx.error),
    }),
    h('span', {}, t(`lang.${code}`)));
  const source = ctx.profileSource === 'embedded' ? t('profile.source.embedded') : ctx.profileSource;
  const link = linkSection(ctx);
  return h('div', { class: 'settings' },
    backLink(t('nav.back'), '#/plan'),
    h('h2', {}, t('settings.title')),
    link,
    ctx.pin ? pinSection(ctx) : null,
    ctx.pin ? discretionSection(ctx) : null,
    shortcutSection(ctx),
    ctx.link ? instructionsSection(ctx) : null,
    closedReportsSection(ctx),
    h('fieldset', { class: 'field' },
      h('legend', {}, t('settings.language')),
      choice('sv'), choice('en')),
    updateSection(ctx),
    h('section', { class: 'about' },
      h('h3', {}, t('settings.about')),
      h('p', {}, t('settings.version', { version: ctx.version })),
      h('p', { id: 'profile-info' }, t('settings.profile', {
        region: ctx.profile.region.name, version: ctx.profile.version, source,
      })),
      h('p', {}, pick(ctx.profile.plan.title))));
}

/** Updates from the region: look, then install and restart (with the PIN when set). */
function updateSection(ctx) {
  const status = h('div', { id: 'update-status', role: 'status' });
  // What the region answered is shown where the person looks: scrolled into view.
  const show = (...nodes) => {
    replace(status, ...nodes);
    status.scrollIntoView({ block: 'nearest' });
  };
  const checkButton = h('button', { type: 'button', class: 'btn secondary', id: 'update-check' }, t('update.check'));
  const problem = (e) => h('p', { class: 'error-text', id: 'update-error' }, t(`error.${e.kind}`), ' ',
    e.kind === 'update_held' ? t(`update.hold.${e.message}`)
      : e.kind === 'update_unavailable' ? t(`update.unavailable.${e.message}`) : e.message);
  const install = async (version) => {
    const bar = h('progress', { id: 'update-progress', max: '100' });
    const done = h('p', { class: 'detail', id: 'update-received' });
    show(h('p', {}, t('update.installing')), bar, done);
    const stop = await api.on('update-progress', (p) => {
      if (!p.total) return;
      const percent = Math.min(100, Math.floor((p.received / p.total) * 100));
      bar.value = percent;
      replace(done, t('update.received', { percent }));
    });
    try {
      await withPin(ctx, t('update.pin'), t('update.install'), (pin) => api.updateInstall(version, pin));
      show();
    } catch (e) {
      // How far the download came stays beside the reason (refused after all of it, or not).
      show(problem(e), done.textContent ? done : null);
    } finally {
      stop();
    }
  };
  checkButton.onclick = async () => {
    checkButton.disabled = true;
    show(h('p', {}, t('update.checking')));
    try {
      const u = await api.updateCheck();
      if (!u.offer) {
        show(h('p', { id: 'update-none' }, t('update.none', { version: u.current })));
        return;
      }
      show(
        h('p', { id: 'update-offer' }, t('update.offer', { version: u.offer.version, current: u.current })),
        u.offer.notes ? h('p', { class: 'detail', id: 'update-notes' }, u.offer.notes) : null,
        u.hold ? h('p', { class: 'warn-text', id: 'update-hold' }, t(`update.hold.${u.hold}`)) : null,
        h('button', {
          type: 'button', class: 'btn primary', id: 'update-install', disabled: Boolean(u.hold),
          onclick: () => install(u.offer.version),
        }, t('update.install')));
    } catch (e) {
      show(problem(e));
    } finally {
      checkButton.disabled = false;
    }
  };
  return h('section', { class: 'updates', id: 'update-section', 'aria-labelledby': 'update-heading' },
    h('h3', { id: 'update-heading' }, t('update.title')),
    h('p', { class: 'detail' }, t('update.lead')),
    checkButton, status);
}

/** The host of a server address, for showing where alarms go. */
function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Runs `action(pin)` after asking for the PIN when one is set (null otherwise); resolves
 * with its result, or null when the person closed the PIN dialog. */
async function withPin(ctx, title, label, action, opts = {}) {
  if (!ctx.pin?.pin_set) return action(null);
  return pinDialog(title, label, action, opts);
}

/** The link to the region: the form to link, or where alarms go and the region's key. */
export function linkSection(ctx) {
  const link = h('section', { class: 'link', id: 'link-section', 'aria-labelledby': 'link-heading' });
  drawLink(ctx, link);
  return link;
}

/** Unlinks after `question` is confirmed (and the PIN, when one is set), then redraws. */
async function unlinkAfter(ctx, root, question) {
  if (!(await confirmDialog(question, t('link.unlink'), { danger: true }))) return;
  try {
    const s = await withPin(ctx, t('link.unlink_pin'), t('link.unlink'), (pin) => api.unlink(pin), { danger: true });
    if (!s) return;
    put({ link: s.link, connection: s.connection, profileKey: s.profile_key });
    ctx.redrawChrome();
    drawLink(ctx, root, s.region_told === false
      ? h('p', { class: 'error-text', id: 'unlink-not-told' }, t('link.unlink_not_told')) : null);
  } catch (e) {
    ctx.error(e);
  }
}

function drawLink(ctx, root, notice = null) {
  if (ctx.link) {
    const servers = ctx.link.servers ?? [ctx.link.server_url];
    replace(root,
      h('h3', { id: 'link-heading' }, t('link.title')),
      h('p', { id: 'link-info' }, t('link.linked', { name: ctx.link.name, region: ctx.link.region_id === ctx.profile.region.id ? ctx.profile.region.name : ctx.link.region_id, url: servers.join(', ') })),
      h('p', { class: 'link-host', id: 'link-host' }, t('link.alarms_go_to', { host: servers.map(host).join(', ') })),
      keySection(ctx, root),
      notice,
      h('button', {
        type: 'button', class: 'btn danger', id: 'unlink',
        onclick: () => unlinkAfter(ctx, root, t('link.unlink_confirm')),
      }, t('link.unlink')));
    return;
  }
  // Text, not url: a region with several instances gives them all, separated by spaces.
  const url = h('input', { id: 'server-url', type: 'text', inputmode: 'url', value: ctx.suggestedServerUrl ?? 'https://', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'server-url-help' });
  const code = h('input', { id: 'enroll-code', type: 'text', autocomplete: 'one-time-code', maxlength: 20, placeholder: 'ABCD-EFGH', spellcheck: 'false' });
  const status = h('p', { class: 'save-status', id: 'link-status', role: 'status' });
  const button = h('button', { type: 'submit', class: 'btn primary big', id: 'link-submit' }, t('link.submit'));
  const form = h('form', { class: 'link-form', id: 'link-form' },
    h('h3', { id: 'link-heading' }, t('link.title')),
    notice,
    h('p', {}, t('link.lead')),
    h('div', { class: 'field' }, h('label', { for: 'server-url' }, t('link.server')), url,
      h('p', { class: 'detail', id: 'server-url-help' }, t('link.server_help'))),
    h('div', { class: 'field' }, h('label', { for: 'enroll-code' }, t('link.code')), code),
    button, status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    replace(status, t('link.working'));
    try {
      const s = await withPin(ctx, t('link.pin'), t('link.submit'), (pin) => api.enroll(url.value, code.value, pin));
      if (!s) {
        replace(status);
        return;
      }
      put({ link: s.link, connection: s.connection, profileKey: s.profile_key });
      ctx.redrawChrome();
      ctx.go(location.hash);
    } catch (err) {
      // What to do, in the person's language; the server's own wording (English, technical)
      // only for an error the app has no words for.
      const known = ['enroll_refused', 'server_unreachable', 'bad_url'].includes(err.kind);
      replace(status, h('span', { class: 'error-text', id: 'enroll-error', role: 'alert' },
        known ? t(`error.${err.kind}_do`) : `${t(`error.${err.kind}`)} ${err.message ?? ''}`));
      status.scrollIntoView({ block: 'nearest' });
    } finally {
      button.disabled = false;
    }
  });
  replace(root, form);
}

/** Whether the region's profile key waits for the person to compare its fingerprint. */
export function keyPending(ctx) {
  const k = ctx.profileKey;
  return Boolean(k && !k.built_in && k.learned && !k.learned.confirmed);
}

/** The region's profile key: built in, confirmed, or to compare with the region's letter. */
function keySection(ctx, root) {
  const k = ctx.profileKey;
  if (!k) return null;
  if (k.built_in) return h('p', { class: 'detail', id: 'key-built-in' }, t('key.built_in'));
  if (!k.learned) return h('p', { class: 'warn-text', id: 'key-none' }, t('key.none'));
  if (k.learned.confirmed) {
    return h('p', { class: 'detail', id: 'key-confirmed' }, t('key.confirmed', { fingerprint: k.learned.fingerprint }));
  }
  const status = h('p', { class: 'save-status', id: 'key-status', role: 'status' });
  return h('section', { class: 'key-check', id: 'key-check', 'aria-labelledby': 'key-heading' },
    h('h4', { id: 'key-heading' }, t('key.title')),
    h('p', {}, t('key.lead')),
    h('p', { class: 'fingerprint', id: 'key-fingerprint' }, k.learned.fingerprint),
    h('p', { class: 'detail' }, t('key.why')),
    status,
    h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'btn danger', id: 'key-reject',
        onclick: () => unlinkAfter(ctx, root, t('key.reject_confirm')),
      }, t('key.reject')),
      h('button', {
        type: 'button', class: 'btn primary', id: 'key-confirm',
        onclick: async () => {
          try {
            const s = await withPin(ctx, t('key.pin'), t('key.confirm'), (pin) => api.confirmProfileKey(k.learned.key, pin));
            if (!s) return;
            put({ profileKey: s.profile_key });
            ctx.redrawChrome();
            drawLink(ctx, root);
          } catch (e) {
            replace(status, h('span', { class: 'error-text' }, t(`error.${e.kind}`), ' ', e.message));
          }
        },
      }, t('key.confirm'))));
}

/** Sound and notifications during an alarm: both off unless the person turns them on. */
export function discretionSection(ctx) {
  const d = ctx.discretion ?? { sound: false, text: false };
  const status = h('p', { class: 'save-status', role: 'status' });
  const box = (id, key, label) => h('label', { class: 'check' },
    h('input', {
      type: 'checkbox', id, checked: d[key] === true,
      onchange: async (e) => {
        const next = { ...ctx.discretion, [key]: e.target.checked };
        try {
          put({ discretion: await api.setAlarmDiscretion(next.sound === true, next.text === true) });
          replace(status, t('discretion.saved'));
        } catch (err) {
          e.target.checked = !e.target.checked;
          replace(status, h('span', { class: 'error-text' }, err.message));
        }
      },
    }),
    h('span', {}, label));
  return h('fieldset', { class: 'field', id: 'discretion' },
    h('legend', {}, t('discretion.title')),
    h('p', { class: 'detail' }, t('discretion.help')),
    box('alarm-sound', 'sound', t('discretion.sound')),
    box('alarm-notification-text', 'text', t('discretion.text')),
    status);
}

function shortcutSection(ctx) {
  const input = h('input', { id: 'alarm-shortcut', type: 'text', value: ctx.alarmShortcut, spellcheck: 'false' });
  const status = h('p', { class: 'save-status', role: 'status' });
  const form = h('form', { class: 'field', id: 'shortcut-form' },
    h('label', { for: 'alarm-shortcut' }, t('shortcut.label')),
    input,
    h('p', { class: 'detail' }, t('shortcut.help')),
    h('button', { type: 'submit', class: 'btn secondary' }, t('shortcut.save')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      put({ alarmShortcut: await api.setAlarmShortcut(input.value) });
      replace(status, t('shortcut.saved', { shortcut: ctx.alarmShortcut }));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, err.message));
    }
  });
  return form;
}

/** What the person wants responders to know: sent to the region, shown with every alarm. */
function instructionsSection(ctx) {
  const field = h('textarea', { id: 'instructions', rows: 3, maxlength: 1000 }, ctx.instructions ?? '');
  const status = h('p', { class: 'save-status', role: 'status' });
  const form = h('form', { class: 'field', id: 'instructions-form' },
    h('label', { for: 'instructions' }, t('instructions.label')), field,
    h('p', { class: 'detail' }, t('instructions.help')),
    h('button', { type: 'submit', class: 'btn secondary' }, t('instructions.save')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      put({ instructions: await api.setInstructions(field.value) });
      replace(status, t('instructions.saved'));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, t(`error.${err.kind}`), ' ', err.message ?? ''));
    }
  });
  return h('div', {}, form, callbackForm(ctx));
}

/** The number the region may ring: kept here, sent only with "Ring mig" during an alarm. */
function callbackForm(ctx) {
  const field = h('input', { id: 'callback-number', type: 'tel', maxlength: 30, autocomplete: 'tel', value: ctx.callbackNumber ?? '' });
  const status = h('p', { class: 'save-status', role: 'status', id: 'callback-status' });
  const form = h('form', { class: 'field', id: 'callback-form' },
    h('label', { for: 'callback-number' }, t('callback.label')), field,
    h('p', { class: 'detail' }, t('callback.help')),
    h('button', { type: 'submit', class: 'btn secondary' }, t('callback.save')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      put({ callbackNumber: await api.setCallbackNumber(field.value) });
      field.value = ctx.callbackNumber;
      replace(status, t('callback.saved'));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, t(`error.${err.kind}`), ' ', err.message ?? ''));
    }
  });
  return form;
}

/** Days a report the region has closed stays on this device (as `varn_core::incident::CLOSED_KEEP_DAYS`); none: kept. */
const CLOSED_KEEP_CHOICES = [null, 30, 90, 365];

function closedReportsSection(ctx) {
  const select = h('select', { id: 'closed-reports-days' }, CLOSED_KEEP_CHOICES.map((d) => h('option', {
    value: d === null ? '' : String(d), selected: (ctx.closedReportsDays ?? null) === d,
  }, d === null ? t('closed.keep') : t('closed.days', { n: d }))));
  const status = h('p', { class: 'save-status', role: 'status' });
  select.addEventListener('change', async () => {
    try {
      put({ closedReportsDays: await api.setClosedReportsDays(select.value === '' ? null : Number(select.value)) });
      replace(status, t('closed.saved'));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, err.message));
    }
  });
  return h('div', { class: 'field', id: 'closed-reports' },
    h('label', { for: 'closed-reports-days' }, t('closed.label')), select,
    h('p', { class: 'detail' }, t('closed.help')), status);
}

const IDLE_CHOICES = [0, 1, 5, 15, 30, 60];

/** The PIN, the duress PIN and the idle lock. */
export function pinSection(ctx) {
  const root = h('section', { class: 'pin-section', id: 'pin-section', 'aria-labelledby': 'pin-heading' });
  drawPin(ctx, root);
  return root;
}

function pinInput(id, autocomplete) {
  return h('input', { id, type: 'password', inputmode: 'numeric', autocomplete, maxlength: 8, pattern: '[0-9]*' });
}

function drawPin(ctx, root, message = '') {
  const set = ctx.pin.pin_set;
  const current = set ? pinInput('pin-current', 'current-password') : null;
  const fresh = pinInput('pin-new', 'new-password');
  const duress = pinInput('pin-duress', 'off');
  const status = h('p', { class: 'save-status', id: 'pin-save-status', role: 'status' }, message);
  const fail = (err) => replace(status, h('span', { class: 'error-text' }, err.kind === 'invalid_input' ? t('pin.format') : pinErrorText(err)));
  const done = (pin, text) => {
    put({ pin: pin });
    drawPin(ctx, root, text);
  };
  // Said once, right after a change with the person's own PIN: what became of the duress PIN.
  const duressNote = (note) => t(`pin.duress_${note}`);
  const form = h('form', { class: 'link-form', id: 'pin-form' },
    h('h3', { id: 'pin-heading' }, t('pin.title')),
    // Whether a duress PIN is set is never shown: whoever forces the person to open the
    // app must not be able to read it here.
    h('p', { id: 'pin-state' }, set ? t('pin.state_set') : t('pin.state_none')),
    h('p', { class: 'detail' }, t('pin.duress_help')),
    current ? h('div', { class: 'field' }, h('label', { for: 'pin-current' }, t('pin.current')), current) : null,
    h('div', { class: 'field' }, h('label', { for: 'pin-new' }, set ? t('pin.new_change') : t('pin.new')), fresh),
    h('div', { class: 'field' }, h('label', { for: 'pin-duress' }, set ? t('pin.duress_change') : t('pin.duress')), duress),
    h('button', { type: 'submit', class: 'btn primary', id: 'pin-save' }, t('pin.save')),
    // Always offered once a PIN is set, whether or not a duress PIN is: the button tells
    // nobody which.
    set ? h('button', {
      type: 'button', class: 'btn secondary', id: 'pin-remove-duress',
      onclick: async () => {
        try {
          const note = await pinDialog(t('pin.remove_duress_title'), t('pin.remove_duress'),
            (pin) => api.removeDuressPin(pin), { hint: t('pin.remove_duress_hint') });
          if (note) drawPin(ctx, root, duressNote(note));
        } catch (err) {
          fail(err);
        }
      },
    }, t('pin.remove_duress')) : null,
    set ? h('button', {
      type: 'button', class: 'btn danger', id: 'pin-clear',
      onclick: async () => {
        try {
          done(await api.clearPin(current.value), t('pin.cleared'));
        } catch (err) {
          fail(err);
        }
      },
    }, t('pin.clear')) : null,
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    replace(status, t('pin.checking'));
    try {
      const changed = await api.setPin(current?.value ?? null, fresh.value, duress.value || null);
      done(changed, `${t('pin.saved')} ${duressNote(changed.duress)}`);
    } catch (err) {
      fail(err);
    }
  });
  const idle = set ? h('div', { class: 'field' },
    h('label', { for: 'idle-lock' }, t('lock.idle_label')),
    h('select', {
      id: 'idle-lock',
      onchange: async (e) => {
        const from = ctx.pin.idle_lock_minutes;
        const to = Number(e.target.value);
        // Turning the lock off or lengthening it needs the PIN; shortening it does not.
        const weakens = to === 0 || (from !== 0 && to > from);
        try {
          const changed = weakens
            ? await pinDialog(t('lock.idle_pin'), t('lock.idle_save'), (pin) => api.setIdleLock(to, pin))
            : await api.setIdleLock(to);
          if (changed) done(changed, t('lock.idle_saved'));
          else drawPin(ctx, root);
        } catch (err) {
          fail(err);
        }
      },
    }, IDLE_CHOICES.map((m) => h('option', { value: String(m), selected: m === ctx.pin.idle_lock_minutes },
      m === 0 ? t('lock.idle_off') : t('lock.idle_minutes', { m }))))) : null;
  replace(root, form, idle);
}
