// Inställningar: the link to the region's server, the alarm shortcut, language, and what
// profile and version are in use.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { t, currentLang, pick } from '../i18n.js';
import { confirmDialog } from '../dialog.js';
import { backLink } from './common.js';

export function render(ctx) {
  const lang = currentLang();
  const choice = (code) => h('label', { class: 'radio' },
    h('input', {
      type: 'radio', name: 'lang', value: code, id: `lang-${code}`, checked: lang === code,
      onchange: () => ctx.setLanguage(code).catch(ctx.error),
    }),
    h('span', {}, t(`lang.${code}`)));
  const source = ctx.profileSource === 'embedded' ? t('profile.source.embedded') : ctx.profileSource;
  const link = h('section', { class: 'link', id: 'link-section', 'aria-labelledby': 'link-heading' });
  drawLink(ctx, link);
  return h('div', { class: 'settings' },
    backLink(t('nav.back'), '#/plan'),
    h('h2', {}, t('settings.title')),
    link,
    shortcutSection(ctx),
    h('fieldset', { class: 'field' },
      h('legend', {}, t('settings.language')),
      choice('sv'), choice('en')),
    h('section', { class: 'about' },
      h('h3', {}, t('settings.about')),
      h('p', {}, t('settings.version', { version: ctx.version })),
      h('p', { id: 'profile-info' }, t('settings.profile', {
        region: ctx.profile.region.name, version: ctx.profile.version, source,
      })),
      h('p', {}, pick(ctx.profile.plan.title))));
}

function drawLink(ctx, root) {
  if (ctx.link) {
    replace(root,
      h('h3', { id: 'link-heading' }, t('link.title')),
      h('p', { id: 'link-info' }, t('link.linked', { name: ctx.link.name, region: ctx.link.region_id, url: ctx.link.server_url })),
      h('button', {
        type: 'button', class: 'btn danger', id: 'unlink',
        onclick: async () => {
          if (!(await confirmDialog(t('link.unlink_confirm'), t('link.unlink'), { danger: true }))) return;
          try {
            const s = await api.unlink();
            Object.assign(ctx, { link: s.link, connection: s.connection });
            ctx.go(location.hash);
          } catch (e) {
            ctx.error(e);
          }
        },
      }, t('link.unlink')));
    return;
  }
  const url = h('input', { id: 'server-url', type: 'url', value: ctx.suggestedServerUrl ?? 'https://', autocomplete: 'off', spellcheck: 'false' });
  const code = h('input', { id: 'enroll-code', type: 'text', autocomplete: 'one-time-code', maxlength: 20, placeholder: 'ABCD-EFGH', spellcheck: 'false' });
  const status = h('p', { class: 'save-status', id: 'link-status', role: 'status' });
  const button = h('button', { type: 'submit', class: 'btn primary big', id: 'link-submit' }, t('link.submit'));
  const form = h('form', { class: 'link-form', id: 'link-form' },
    h('h3', { id: 'link-heading' }, t('link.title')),
    h('p', {}, t('link.lead')),
    h('div', { class: 'field' }, h('label', { for: 'server-url' }, t('link.server')), url),
    h('div', { class: 'field' }, h('label', { for: 'enroll-code' }, t('link.code')), code),
    button, status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    replace(status, t('link.working'));
    try {
      const s = await api.enroll(url.value, code.value);
      Object.assign(ctx, { link: s.link, connection: s.connection });
      ctx.go(location.hash);
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, t(`error.${err.kind}`)), ' ', err.message);
    } finally {
      button.disabled = false;
    }
  });
  replace(root, form);
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
      ctx.alarmShortcut = await api.setAlarmShortcut(input.value);
      replace(status, t('shortcut.saved', { shortcut: ctx.alarmShortcut }));
    } catch (err) {
      replace(status, h('span', { class: 'error-text' }, err.message));
    }
  });
  return form;
}
