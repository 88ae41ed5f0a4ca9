// Rapporter: the person's incident reports with where each stands, and "Ny händelse".

import * as api from '../api.js';
import { h } from '../dom.js';
import { t, formatTime, formatClock, formatShort } from '../i18n.js';
import { put } from '../state.js';

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
    syncPanel(ctx),
    failed ? h('p', { class: 'error-text' }, t(`error.${failed.kind}`), ' ', failed.message) : null,
    list.length === 0 && !failed ? h('p', { class: 'empty' }, t('reports.empty')) : null,
    h('ul', { class: 'inventory-list', id: 'incident-list' }, list.map((row) => incidentRow(row))));
}

/** Where sync stands: the queue, why it waits, an upload's progress, and "Skicka nu". */
export function syncPanel(ctx) {
  const v = ctx.sync;
  if (!v) return null;
  const n = v.counts.queued;
  const lines = [];
  if (n > 0) lines.push(h('strong', { id: 'sync-count' }, t('sync.queued', { n: v.counts.reports })));
  const why = {
    sending: 'sync.sending',
    waiting: 'sync.waiting',
    not_enrolled: 'sync.not_enrolled',
    device_refused: 'sync.device_refused',
    keychain_unavailable: 'sync.keychain_unavailable',
  }[v.state];
  if (n > 0 && why) lines.push(h('p', {}, t(why, { time: v.next_try_at ? formatClock(v.next_try_at) : '' })));
  if (n === 0 && v.state === 'idle') lines.push(h('p', {}, t('sync.idle')));
  if (v.progress && v.progress.total > 0) {
    lines.push(h('progress', { id: 'sync-progress', max: String(v.progress.total), value: String(v.progress.sent) }));
    lines.push(h('p', { class: 'detail' }, t('sync.progress', { sent: bytes(v.progress.sent), total: bytes(v.progress.total) })));
  }
  const canSend = n > 0 && !['not_enrolled', 'keychain_unavailable'].includes(v.state);
  return h('section', { class: 'sync-panel', id: 'sync-panel', dataset: { state: v.state }, 'aria-live': 'polite' },
    lines,
    canSend ? h('button', {
      type: 'button', class: 'btn secondary', id: 'sync-now',
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try { put({ sync: await api.syncNow() }); } catch (err) { ctx.error(err); }
      },
    }, t('sync.send_now')) : null);
}

function bytes(n) {
  if (n < 1024 * 1024) return `${Math.ceil(n / 1024)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** A report's status as shown everywhere: utkast → klar att skicka → i kö → skickad → mottagen.
 * `short` for the list, where the badge shares the row with the title. */
export function statusText(row, short = false) {
  if (row.status === 'received') {
    return short
      ? t('status.received_short', { time: formatShort(row.received_at) })
      : t('status.received', { time: formatTime(row.received_at) });
  }
  return t(`status.${row.status}`);
}

function attachmentCount(n) {
  if (n === 0) return '';
  return n === 1 ? t('incident.one_attachment') : t('incident.n_attachments', { n });
}

/** A report's title: its kind of event (or the kind given before there was one), and how. */
export function reportTitle(i) {
  const parts = [i.event ? t(`event.${i.event}`) : i.kind ? t(`kind.${i.kind}`) : null, i.channel ? t(`channel.${i.channel}`) : null];
  return parts.filter(Boolean).join(' · ') || t('incident.untitled');
}

/** The region's follow-up of a sent report, as its receipt last said (none until taken). */
export function followupLine(row, full = false) {
  const f = row.followup;
  if (!f) return null;
  return h('div', { class: `followup-line followup-${f.state}`, id: full ? 'incident-followup' : null, dataset: { followup: f.state } },
    h('strong', {}, f.by ? t('followup.by', { state: t(`followup.${f.state}`), who: f.by, time: formatShort(f.at) }) : t(`followup.${f.state}`)),
    f.message ? h('p', { class: 'followup-message' }, full ? [h('span', { class: 'detail' }, t('followup.message'), ': '), f.message] : f.message) : null);
}

function incidentRow(row) {
  const i = row.incident;
  const title = reportTitle(i);
  const when = i.started_at ? formatTime(i.started_at) : formatTime(row.created_at);
  return h('li', {},
    h('a', { class: 'inventory-row', href: `#/incident/${row.id}`, dataset: { incident: row.id, status: row.status } },
      h('span', { class: 'row-title' }, title),
      h('span', { class: 'row-meta' }, [when, i.place, attachmentCount(row.attachments.length)].filter(Boolean).join(' · ')),
      h('span', { class: `badge status-${row.status}`, title: statusText(row) }, statusText(row, true)),
      row.refusal ? h('span', { class: 'row-error' }, t('sync.refused', { why: row.refusal })) : null,
      followupLine(row)));
}
