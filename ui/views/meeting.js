// Inför möte: the risk inventories for coming appearances, newest first.

import * as api from '../api.js';
import { h } from '../dom.js';
import { t, pick, formatTime } from '../i18n.js';

export async function render(ctx) {
  const p = ctx.profile;
  const always = p.before.find((s) => s.id === 'fore-alltid-skall');
  let list = [];
  let failed = null;
  try {
    list = await api.inventories();
  } catch (e) {
    failed = e;
  }
  return h('div', { class: 'meeting' },
    h('h2', {}, t('meeting.title')),
    always ? h('p', { class: 'lead' }, pick(always.items[0])) : null,
    h('a', { class: 'btn primary big', id: 'new-inventory', href: '#/inventory/new' }, t('inventory.new')),
    h('h3', {}, t('meeting.inventories')),
    failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
    list.length === 0 && !failed ? h('p', { class: 'empty' }, t('meeting.none')) : null,
    h('ul', { class: 'inventory-list' }, list.map((v) => inventoryRow(v))));
}

function inventoryRow(v) {
  const inv = v.inventory;
  const a = v.assessment;
  const when = inv.when ? formatTime(inv.when) : '';
  return h('li', {},
    h('a', { class: 'inventory-row', href: `#/inventory/${inv.id}`, dataset: { inventory: inv.id } },
      h('span', { class: 'row-title' }, inv.what),
      h('span', { class: 'row-meta' }, [when, inv.where].filter(Boolean).join(' · ')),
      h('span', { class: `badge ${a.advise_measures ? 'warn' : 'ok'}` },
        a.advise_measures ? t('inventory.result.advise_short') : t('inventory.answered', { n: a.answered, total: a.questions }))));
}
