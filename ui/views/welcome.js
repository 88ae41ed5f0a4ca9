// The first run: a short guide that can be skipped at every step — choose the language, link
// to the region (or later), set a PIN (or later), run a drill — and that ends on the plan.
// Each step is a route (#/welcome/lang …), so linking, which redraws the view, stays on its
// step.

import * as api from '../api.js';
import { h } from '../dom.js';
import { t, currentLang } from '../i18n.js';
import { discretionSection, linkSection, pinSection } from './settings.js';
import { put } from '../state.js';

const STEPS = ['lang', 'link', 'pin', 'drill'];

/** Leaves the guide for good (finished or skipped) and opens the plan. */
async function finish(ctx) {
  try {
    await api.finishWelcome();
  } catch (e) {
    ctx.error(e);
  }
  put({ firstRun: false });
  ctx.go('#/plan');
}

export function render(ctx, route) {
  const step = STEPS.includes(route.params[0]) ? route.params[0] : 'lang';
  const i = STEPS.indexOf(step);
  const next = () => (i + 1 < STEPS.length ? ctx.go(`#/welcome/${STEPS[i + 1]}`) : finish(ctx));
  const nav = (label = t('welcome.next'), id = 'welcome-next') => h('div', { class: 'row welcome-nav' },
    h('button', { type: 'button', class: 'btn primary big', id, onclick: next }, label));
  let body;
  switch (step) {
    case 'lang': {
      const choose = (code) => h('button', {
        type: 'button', class: `btn big ${currentLang() === code ? 'primary' : 'secondary'}`, id: `welcome-lang-${code}`,
        'aria-pressed': currentLang() === code ? 'true' : 'false',
        onclick: async () => {
          await ctx.setLanguage(code).catch(ctx.error);
        },
      }, t(`lang.${code}`));
      body = [
        h('h2', {}, t('welcome.title')),
        h('p', { class: 'lead' }, t('welcome.lead')),
        h('h3', {}, t('settings.language')),
        h('div', { class: 'row' }, choose('sv'), choose('en')),
        nav(),
      ];
      break;
    }
    case 'link':
      body = [
        h('h2', {}, t('welcome.link_title')),
        h('p', {}, t('welcome.link_lead')),
        linkSection(ctx),
        nav(ctx.link ? t('welcome.next') : t('welcome.later'), ctx.link ? 'welcome-next' : 'welcome-later'),
      ];
      break;
    case 'pin':
      body = [
        h('h2', {}, t('welcome.pin_title')),
        h('p', {}, t('welcome.pin_lead')),
        ctx.pin ? pinSection(ctx) : null,
        nav(ctx.pin?.pin_set ? t('welcome.next') : t('welcome.later'), ctx.pin?.pin_set ? 'welcome-next' : 'welcome-later'),
      ];
      break;
    default:
      body = [
        h('h2', {}, t('welcome.drill_title')),
        h('p', {}, ctx.link ? t('welcome.drill_lead') : t('welcome.drill_unlinked')),
        h('p', { id: 'welcome-silent' }, t('welcome.silent_lead')),
        ctx.pin ? discretionSection(ctx) : null,
        ctx.link ? h('button', {
          type: 'button', class: 'btn primary big', id: 'welcome-drill',
          onclick: async () => {
            await api.finishWelcome().catch(() => {});
            put({ firstRun: false });
            ctx.raiseDrill();
          },
        }, t('drill.start')) : null,
        nav(t('welcome.done'), 'welcome-done'),
      ];
  }
  return h('div', { class: 'welcome', id: 'welcome', dataset: { step } },
    h('div', { class: 'welcome-top' },
      h('p', { class: 'welcome-steps', 'aria-label': t('welcome.progress', { n: i + 1, total: STEPS.length }) },
        STEPS.map((s, n) => h('span', { class: n <= i ? 'on' : '', 'aria-hidden': 'true' }))),
      h('button', { type: 'button', class: 'btn secondary small', id: 'welcome-skip', onclick: () => finish(ctx) }, t('welcome.skip'))),
    body);
}
