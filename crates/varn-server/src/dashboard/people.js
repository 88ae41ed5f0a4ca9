// The people the region looks after, on the dashboard: the linked devices (active, revoked by
// the region, unlinked by the person) and the check-ins running now, the overdue and the soon
// marked. The page's helpers come in as `ui` ({ h, t, api, time }), so nothing imports back.

function deviceItem(d, { h, t, time }) {
  const state = d.revoked_at
    ? t(d.revoked_by === 'person' ? 'deviceUnlinked' : 'deviceRevoked', { time: time(d.revoked_at) })
    : t('deviceActive');
  return h('li', { class: `device ${d.revoked_at ? 'revoked' : ''}`, id: `device-${d.id}`, 'data-revoked-by': d.revoked_by ?? '' },
    h('div', { class: 'who' }, d.revoked_at ? h('span', { class: 'badge open' }, state) : null, d.name),
    h('div', { class: 'meta' }, t('enrolled', { time: time(d.created_at) }), d.revoked_at ? '' : ` · ${state}`));
}

export async function drawDevices(ui) {
  const { h, t, api } = ui;
  const list = document.getElementById('device-list');
  if (!list) return;
  const devices = await api('/dashboard/api/devices').catch(() => null);
  if (!devices) return;
  list.replaceChildren(...(devices.length ? devices.map((d) => deviceItem(d, ui)) : [h('li', { class: 'empty' }, t('noDevices'))]));
}

/** Minutes before a deadline when a check-in is marked SNART (before it escalates). */
const SOON_MINUTES = 5;

export async function drawCheckins(ui) {
  const { h, t, api, time } = ui;
  const list = document.getElementById('checkin-list');
  if (!list) return;
  const answer = await api('/dashboard/api/checkins').catch(() => null);
  if (!answer) return;
  const { checkins } = answer;
  const now = Date.parse(answer.now);
  list.replaceChildren(...(checkins.length ? checkins.map((k) => {
    const left = Math.ceil((Date.parse(k.deadline) - now) / 60000);
    const overdue = k.status === 'overdue';
    const soon = !overdue && left <= SOON_MINUTES;
    return h('li', { class: `checkin ${overdue ? 'overdue' : ''} ${soon ? 'soon' : ''}`, id: `checkin-${k.id}`, 'data-status': k.status, 'data-soon': soon ? 'true' : 'false' },
      h('div', { class: 'who' },
        overdue ? h('span', { class: 'badge open' }, t('checkinOverdue')) : soon ? h('span', { class: 'badge late' }, t('checkinSoon')) : null,
        k.who),
      h('div', { class: 'meta' }, t('checkinDeadline', { time: time(k.deadline) }), overdue ? '' : ` · ${t('checkinLeft', { min: Math.max(left, 0) })}`),
      h('div', { class: 'meta' },
        k.meeting ? [h('strong', {}, t('meeting'), ': '), k.meeting, ' '] : null,
        k.place ? [h('strong', {}, t('place'), ': '), k.place] : null));
  }) : [h('li', { class: 'empty' }, t('noCheckins'))]));
}
