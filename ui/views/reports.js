// Rapporter: the person's incident reports with where each stands, and "Ny händelse".

import * as api from '../api.js';
import { h } from '../dom.js';
import { t, formatTime } from '../i18n.js';

export async function render(ctx) {
  let list = [];
  let failed = null;
  try {
    list = await api.incidents();
  } catch (e) {
    failed = e;
  }
  return h('div', { class: 'reports' },
    h('h2', {}, t('reports.title')),
    h('a', { class: 'btn primary big', id: 'new-incident', href: '#/incident/new' }, t('incident.new')),
    failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
    list.length === 0 && !failed ? h('p', { class: 'empty' }, t('reports.empty')) : null,
    h('ul', { class: 'inventory-list', id: 'incident-list' }, list.map((row) => incidentRow(row))));
}

/** A report's status as shown everywhere: utkast → klar att skicka → i kö → skickad → mottagen. */
export function statusText(row) {
  if (row.status === 'received') return t('status.received', { time: formatTime(row.received_at) });
  return t(`status.${row.status}`);
}

function attachmentCount(n) {
  if (n === 0) return '';
  return n === 1 ? t('incident.one_attachment') : t('incident.n_attachments', { n });
}

function incidentRow(row) {
  const i = row.incident;
  const title = i.kind ? t(`kind.${i.kind}`) : t('incident.untitled');
  const when = i.started_at ? formatTime(i.started_at) : formatTime(row.created_at);
  return h('li', {},
    h('a', { class: 'inventory-row', href: `#/incident/${row.id}`, dataset: { incident: row.id, status: row.status } },
      h('span', { class: 'row-title' }, title),
      h('span', { class: 'row-meta' }, [when, i.place, attachmentCount(row.attachments.length)].filter(Boolean).join(' · ')),
      h('span', { class: `badge status-${row.status}` }, statusText(row))));
}
