// Kontakter & larm: every number of the plan as a big button, and the person's own contacts
// (e.g. the party's group leader) that they can add, edit, reorder and delete.

import * as api from '../api.js';
import { h, replace, icon } from '../dom.js';
import { t, pick } from '../i18n.js';
import { confirmDialog } from '../dialog.js';
import { revealAnchor } from './plan.js';

export async function render(ctx) {
  const phoneContacts = ctx.profile.contacts.filter((c) => c.number);
  const web = ctx.profile.contacts.filter((c) => !c.number && c.url);
  const own = h('section', { class: 'own-contacts', id: 'own-contacts', 'aria-labelledby': 'own-heading' });
  let list = [];
  try {
    list = await api.userContacts();
  } catch (e) {
    ctx.error(e);
  }
  drawOwn(ctx, own, list);
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
            h('span', { class: 'contact-number' }, c.number, c.mark ? h('span', { class: 'call-mark' }, ' · ', pick(c.mark)) : null),
            c.note ? h('span', { class: 'contact-note' }, pick(c.note)) : null)),
        c.email ? h('p', { class: 'contact-email' }, c.email) : null))),
    own,
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

function drawOwn(ctx, root, list, editing = null) {
  const move = async (i, by) => {
    const ids = list.map((c) => c.id);
    [ids[i], ids[i + by]] = [ids[i + by], ids[i]];
    try {
      drawOwn(ctx, root, await api.orderUserContacts(ids));
    } catch (e) {
      ctx.error(e);
    }
  };
  replace(root,
    h('h3', { id: 'own-heading' }, t('contacts.own')),
    list.length === 0 ? h('p', { class: 'empty' }, t('contacts.own_empty')) : null,
    h('ul', { class: 'contact-list' }, list.map((c, i) => editing === c.id
      ? h('li', {}, contactForm(ctx, root, c))
      : h('li', { class: 'own-contact', dataset: { own: c.name } },
        h('button', { type: 'button', class: 'contact-button', onclick: () => ctx.callUser(c) },
          icon('phone', 'contact-icon'),
          h('span', { class: 'contact-text' },
            h('span', { class: 'contact-name' }, c.name),
            h('span', { class: 'contact-number' }, c.number))),
        h('div', { class: 'row own-actions' },
          h('button', { type: 'button', class: 'btn secondary small', 'aria-label': t('contacts.up', { name: c.name }), disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
          h('button', { type: 'button', class: 'btn secondary small', 'aria-label': t('contacts.down', { name: c.name }), disabled: i === list.length - 1, onclick: () => move(i, 1) }, '↓'),
          h('button', { type: 'button', class: 'btn secondary small', onclick: () => drawOwn(ctx, root, list, c.id) }, t('contacts.edit')),
          h('button', {
            type: 'button', class: 'btn danger small',
            onclick: async () => {
              if (!(await confirmDialog(t('contacts.delete_confirm', { name: c.name }), t('contacts.delete'), { danger: true }))) return;
              try {
                drawOwn(ctx, root, await api.deleteUserContact(c.id));
              } catch (e) {
                ctx.error(e);
              }
            },
          }, t('contacts.delete')))))),
    editing === 'new' ? contactForm(ctx, root, null) : h('button', {
      type: 'button', class: 'btn primary', id: 'add-contact', onclick: () => drawOwn(ctx, root, list, 'new'),
    }, t('contacts.add')));
}

function contactForm(ctx, root, c) {
  // The region's suggested roles (e.g. the party's group leader), to pick or type over.
  const roles = ctx.profile.personal_contacts;
  const name = h('input', { id: 'own-name', type: 'text', maxlength: 200, value: c?.name ?? '', placeholder: t('contacts.name_placeholder') });
  const roleChips = roles && !c ? h('div', { class: 'chips role-suggestions', id: 'role-suggestions' },
    h('span', { class: 'detail' }, t('contacts.suggested')),
    roles.suggestions.map((r) => h('button', {
      type: 'button', class: 'btn secondary small', dataset: { role: pick(r) },
      onclick: () => { name.value = `${pick(r)} `; name.focus(); },
    }, pick(r)))) : null;
  const number = h('input', { id: 'own-number', type: 'tel', maxlength: 30, value: c?.number ?? '', placeholder: '070-123 45 67' });
  const error = h('p', { class: 'error-text', role: 'alert' });
  const form = h('form', { class: 'contact-form', id: 'contact-form' },
    roleChips,
    h('div', { class: 'field' }, h('label', { for: 'own-name' }, t('contacts.name')), name),
    h('div', { class: 'field' }, h('label', { for: 'own-number' }, t('contacts.number')), number),
    error,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn primary', id: 'save-contact' }, t('contacts.save')),
      h('button', { type: 'button', class: 'btn secondary', onclick: async () => drawOwn(ctx, root, await api.userContacts()) }, t('dialog.cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      drawOwn(ctx, root, await api.saveUserContact({ id: c?.id ?? null, name: name.value, number: number.value }));
    } catch (err) {
      replace(error, t(`error.${err.kind}`), ' ', err.message);
    }
  });
  queueMicrotask(() => name.focus());
  return form;
}
