// Kontakter & larm: every number of the plan as a big button.

import { h, icon } from '../dom.js';
import { t, pick } from '../i18n.js';
import { revealAnchor } from './plan.js';

export function render(ctx) {
  const phoneContacts = ctx.profile.contacts.filter((c) => c.number);
  const web = ctx.profile.contacts.filter((c) => !c.number && c.url);
  return h('div', { class: 'contacts' },
    h('h2', {}, t('contacts.title')),
    h('p', { class: 'lead' }, t('contacts.lead')),
    h('ul', { class: 'contact-list' }, phoneContacts.map((c) =>
      h('li', { id: `contact-${c.id}` },
        h('button', { type: 'button', class: `contact-button role-${c.role}`, dataset: { contact: c.id }, onclick: () => ctx.call(c.id) },
          icon('phone', 'contact-icon'),
          h('span', { class: 'contact-text' },
            h('span', { class: 'contact-name' }, pick(c.name)),
            c.person ? h('span', { class: 'contact-person' }, c.person) : null,
            h('span', { class: 'contact-number' }, c.number),
            c.note ? h('span', { class: 'contact-note' }, pick(c.note)) : null)),
        c.email ? h('p', { class: 'contact-email' }, c.email) : null))),
    web.map((c) => h('div', { class: 'web-contact', id: `contact-${c.id}` },
      icon('globe'),
      h('div', {},
        h('p', { class: 'contact-name' }, pick(c.name)),
        h('p', { class: 'url' }, c.url),
        c.note ? h('p', { class: 'contact-note' }, pick(c.note)) : null))));
}

export function mounted(ctx, route) {
  const focus = route.query.get('focus');
  if (focus) revealAnchor(focus);
}
