// Pieces several views share: call buttons, source references, section blocks.

import { h, icon } from '../dom.js';
import { t, pick } from '../i18n.js';

/** A button that calls a contact of the profile. `size` is 'big' or 'chip'; `card` is the
 * action card it sits on (its script for the contact is shown). */
export function callButton(ctx, id, size = 'chip', card = null) {
  const c = ctx.contact(id);
  if (!c) return null;
  if (c.role === 'web') {
    return h('span', { class: `link-chip ${size}` }, icon('globe'), h('span', {}, pick(c.name), ' ', h('span', { class: 'url' }, c.url)));
  }
  return h('button', {
    type: 'button', class: `call ${size} role-${c.role}`, dataset: { contact: c.id },
    onclick: () => ctx.call(c.id, card),
  }, icon('phone'),
  h('span', { class: 'call-text' },
    h('span', { class: 'call-name' }, t('call.label', { name: pick(c.name) })),
    h('span', { class: 'call-number' }, c.number, c.mark ? h('span', { class: 'call-mark' }, ' · ', pick(c.mark)) : null)));
}

export function sourceRef(ref) {
  return h('p', { class: 'source-ref' }, t('plan.source_ref', { ref }));
}

/** A plan section as an open/close block; items keep their ids for search and links. */
export function sectionBlock(ctx, section, { open = false, lang } = {}) {
  return h('details', { class: 'section', id: section.id, open },
    h('summary', {}, h('span', { class: 'summary-text' }, pick(section.title, lang))),
    h('ul', { class: 'items' }, section.items.map((item) =>
      h('li', { id: item.id },
        h('p', { class: 'item-text' }, pick(item, lang)),
        item.contacts?.length ? h('div', { class: 'chips' }, item.contacts.map((id) => callButton(ctx, id))) : null))),
    sourceRef(section.ref));
}

/** Back to where the person came from, or to `fallback`. */
export function backLink(label, fallback) {
  return h('a', { class: 'back', href: fallback }, icon('back'), label);
}
