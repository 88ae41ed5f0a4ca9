// Inställningar: language, and what profile and version are in use.

import { h } from '../dom.js';
import { t, currentLang, pick } from '../i18n.js';
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
  return h('div', { class: 'settings' },
    backLink(t('nav.back'), '#/plan'),
    h('h2', {}, t('settings.title')),
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
