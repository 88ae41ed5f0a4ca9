// An action card: one situation during a threat, with big numbered steps and the calls that
// matter, readable at arm's length.

import { h } from '../dom.js';
import { t, pick } from '../i18n.js';
import { callButton, sourceRef, backLink } from './common.js';
import { revealAnchor, translationNote } from './plan.js';

export function render(ctx, route) {
  const cards = ctx.profile.during;
  const i = cards.findIndex((c) => c.id === route.params[0]);
  if (i < 0) {
    return h('div', { class: 'empty' }, h('p', {}, t('card.not_found')), backLink(t('nav.back_plan'), '#/plan?phase=during'));
  }
  const c = cards[i];
  const lang = ctx.planLang;
  const prev = cards[i - 1];
  const next = cards[i + 1];
  return h('article', { class: 'action-card', id: c.id, 'aria-labelledby': 'card-title' },
    backLink(t('nav.back_plan'), '#/plan'),
    translationNote(ctx),
    c.context ? h('p', { class: 'context' }, pick(c.context, lang)) : null,
    h('h2', { id: 'card-title', class: 'card-title' }, pick(c.title, lang)),
    h('div', { class: 'card-calls' }, c.contacts.map((id) => callButton(ctx, id, 'big', c.id))),
    c.intro ? h('p', { class: 'card-intro', id: `${c.id}-intro` }, pick(c.intro, lang)) : null,
    h('ol', { class: 'steps' }, c.steps.map((s, n) =>
      h('li', { class: 'step', id: `${c.id}-step-${n + 1}` },
        h('span', { class: 'step-no', 'aria-hidden': 'true' }, String(n + 1)),
        h('div', { class: 'step-body' },
          s.label ? h('strong', { class: 'step-label' }, pick(s.label, lang)) : null,
          h('p', { class: 'step-text' }, pick(s, lang)))))),
    sourceRef(c.ref),
    h('nav', { class: 'card-nav', 'aria-label': t('card.more') },
      prev ? h('a', { class: 'btn secondary', href: `#/card/${prev.id}` }, '‹ ', pick(prev.title, lang)) : h('span'),
      next ? h('a', { class: 'btn secondary', href: `#/card/${next.id}` }, pick(next.title, lang), ' ›') : h('span')));
}

export function mounted(ctx, route) {
  const focus = route.query.get('focus');
  if (focus) revealAnchor(focus);
}
