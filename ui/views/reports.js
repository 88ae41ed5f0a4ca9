// Rapporter: what the plan says about documenting an event. Incident capture builds on this.

import { h } from '../dom.js';
import { t, pick } from '../i18n.js';
import { sectionBlock } from './common.js';

export function render(ctx) {
  const p = ctx.profile;
  const followUp = p.after.find((s) => s.id === 'efter-uppfoljning');
  const report = p.after.find((s) => s.id === 'efter-rapport');
  return h('div', { class: 'reports' },
    h('h2', {}, t('reports.title')),
    h('div', { class: 'empty' }, h('p', {}, t('reports.empty'))),
    h('a', { class: 'btn primary big', href: `#/plan?phase=after&open=${p.checklist.id}` }, pick(p.checklist.title)),
    followUp ? sectionBlock(ctx, followUp, { open: true }) : null,
    report ? sectionBlock(ctx, report, { open: true }) : null);
}
