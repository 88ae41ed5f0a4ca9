// The region's statistics on the dashboard: a filter (period, kind of event), charts read at
// a glance (reports and alarms per month as bars in SVG, the categories as bars), each with a
// table view, and a CSV export, over whole months. A count the server hides arrives as
// "hidden" (too few, or one that would give a hidden count away) and is drawn as what it is, an
// unknown: a faint hatched bar across the whole track, labelled "dold", never a number.

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

const known = (c) => typeof c === 'number';
/** A figure that may be missing (null, absent): a dash, never "null" or "undefined". */
const orDash = (v, fmt = String) => (typeof v === 'number' && Number.isFinite(v) ? fmt(v) : '–');

/**
 * Draws the statistics into `root`. `ui` gives the page's helpers: h, t, api, lang.
 */
export async function drawStatistics(root, ui, vocabulary) {
  const { h, t, api, lang } = ui;
  const label = (row) => (lang === 'en' ? row.en : row.sv);
  const shown = (c) => (known(c) ? String(c) : t('statsHidden'));
  // This month and the eleven before it, as YYYY-MM.
  const now = new Date();
  const monthKey = (d) => d.toISOString().slice(0, 7);
  const thisMonth = monthKey(now);
  const yearAgo = monthKey(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)));
  const from = h('input', { type: 'month', id: 'stats-from', value: root.dataset.from || yearAgo, lang: lang === 'en' ? 'en-GB' : 'sv-SE' });
  const to = h('input', { type: 'month', id: 'stats-to', value: root.dataset.to || thisMonth, lang: lang === 'en' ? 'en-GB' : 'sv-SE' });
  const event = h('select', { id: 'stats-event' },
    h('option', { value: '' }, t('statsAllEvents')),
    vocabulary.event.map((w) => h('option', { value: w.key, selected: root.dataset.event === w.key }, label(w))));
  const body = h('div', { id: 'stats-body' });
  const csv = h('a', { class: 'export', id: 'stats-csv' }, t('statsCsv'));
  const form = h('form', { class: 'stats-filter', id: 'stats-filter' },
    h('label', {}, t('statsFrom'), from), h('label', {}, t('statsTo'), to), h('label', {}, t('statsEvent'), event),
    h('button', { type: 'submit', class: 'primary' }, t('statsShow')), csv);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    Object.assign(root.dataset, { from: from.value, to: to.value, event: event.value });
    load();
  });
  root.replaceChildren(form, body);

  async function load() {
    const q = new URLSearchParams({ from: from.value, to: to.value });
    if (event.value) q.set('event', event.value);
    csv.href = `/dashboard/api/statistics.csv?${q}&lang=${lang}`;
    csv.setAttribute('download', `varn-statistik-${from.value}-${to.value}.csv`);
    body.replaceChildren(h('p', { class: 'empty', role: 'status' }, t('statsLoading')));
    let f;
    try {
      f = await api(`/dashboard/api/statistics?${q}`);
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, err.message));
      return;
    }
    // replaceChildren writes a null as the text "null": only what is there goes in.
    body.replaceChildren(...[
      h('p', { class: 'stats-note', id: 'stats-note' }, t('statsSuppressed', { n: f.min_shown, from: f.first_month, to: f.last_month })),
      summary(f),
      figure('stats-months', t('statsMonths'), monthChart(f.months), monthTable(f.months)),
      bars('stats-event-chart', t('statsByEvent'), f.by_event),
      bars('stats-channel', t('statsByChannel'), f.by_channel),
      bars('stats-consequence', t('statsByConsequence'), f.by_consequence),
      bars('stats-perpetrator', t('statsByPerpetrator'), f.by_perpetrator),
      bars('stats-reasons', t('statsReasons'), f.police.reasons),
      f.election ? election(f.election) : null,
      alarms(f.alarms)].filter(Boolean));
  }

  function tile(id, name, value, note) {
    return h('div', { class: 'tile', id }, h('span', { class: 'tile-value' }, value), h('span', { class: 'tile-name' }, name),
      note ? h('span', { class: 'tile-note' }, note) : null);
  }

  function summary(f) {
    const share = f.police.share_reported_percent;
    return h('div', { class: 'tiles' },
      tile('stat-reports', t('statsReports'), shown(f.reports)),
      tile('stat-police', t('statsPoliceShare'), orDash(share, (v) => `${v} %`),
        t('statsPoliceCounts', { yes: shown(f.police.reported), no: shown(f.police.not_reported) })),
      tile('stat-sexual', t('statsSexual'), shown(f.sexual)),
      tile('stat-repeated', t('statsRepeated'), shown(f.repeated)));
  }

  /** A chart with a button that shows the same figures as a table instead. */
  function figure(id, title, chart, table) {
    table.hidden = true;
    const toggle = h('button', { type: 'button', class: 'table-toggle', 'aria-controls': `${id}-table`, 'aria-expanded': 'false' }, t('statsAsTable'));
    table.id = `${id}-table`;
    toggle.addEventListener('click', () => {
      table.hidden = !table.hidden;
      chart.hidden = !table.hidden;
      toggle.setAttribute('aria-expanded', String(!table.hidden));
      toggle.textContent = table.hidden ? t('statsAsTable') : t('statsAsChart');
    });
    return h('section', { class: 'stats-figure', id }, h('div', { class: 'figure-head' }, h('h3', {}, title), toggle), chart, table);
  }

  function table(head, rows) {
    return h('table', { class: 'stats-table' },
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
  }

  function bars(id, title, rows) {
    const max = Math.max(1, ...rows.map((r) => r.count).filter(known));
    const chart = h('ul', { class: 'bars' }, rows.map((r) => {
      const bar = h('span', { class: `bar-fill ${known(r.count) ? '' : 'hidden-count'}` });
      bar.style.setProperty('width', `${known(r.count) ? (r.count / max) * 100 : 100}%`);
      return h('li', { 'data-key': r.key }, h('span', { class: 'bar-label' }, label(r)),
        h('span', { class: 'bar-track' }, bar), h('span', { class: 'bar-value' }, shown(r.count)));
    }));
    return figure(id, title, chart, table([t('statsCategory'), t('statsCount')], rows.map((r) => [label(r), shown(r.count)])));
  }

  function monthChart(months) {
    const w = 720; const hgt = 220; const pad = 28; const top = 16;
    const max = Math.max(1, ...months.flatMap((m) => [m.reports, m.alarms]).filter(known));
    const step = (w - pad) / Math.max(1, months.length);
    const bw = Math.max(2, step / 2 - 2);
    const y = (v) => top + (hgt - top - pad) * (1 - v / max);
    const chart = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'month-chart', role: 'img', 'aria-label': t('statsMonths') });
    chart.append(svg('defs', {}, svg('pattern', { id: 'hidden-hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: 2, height: 6, fill: '#d1d5db' }))));
    chart.append(svg('line', { x1: pad, y1: hgt - pad, x2: w, y2: hgt - pad, class: 'axis' }));
    // The scale's top; a hidden count stands as a faint hatched column the whole height.
    chart.append(svg('text', { x: 2, y: y(max) + 4, class: 'tick' }, String(max)));
    months.forEach((m, i) => {
      const x = pad + i * step;
      for (const [k, dx] of [['reports', 0], ['alarms', bw + 2]]) {
        const v = known(m[k]) ? m[k] : max;
        const r = svg('rect', { x: x + dx, y: y(v), width: bw, height: hgt - pad - y(v), class: `${k} ${known(m[k]) ? '' : 'hidden-count'}` });
        r.append(svg('title', {}, `${m.month}: ${shown(m[k])}`));
        chart.append(r);
      }
      if (months.length <= 24 || i % 3 === 0) chart.append(svg('text', { x, y: hgt - 8, class: 'tick' }, m.month.slice(2)));
    });
    const legend = h('p', { class: 'legend' }, h('span', { class: 'key reports' }), t('statsReports'), ' ', h('span', { class: 'key alarms' }), t('statsAlarms'));
    return h('div', {}, chart, legend);
  }

  function monthTable(months) {
    return table([t('statsMonth'), t('statsReports'), t('statsAlarms')], months.map((m) => [m.month, shown(m.reports), shown(m.alarms)]));
  }

  function election(e) {
    const rate = (v) => orDash(v, (x) => String(x).replace('.', lang === 'en' ? '.' : ','));
    return h('section', { class: 'stats-figure', id: 'stats-election' }, h('h3', {}, t('statsElection', { from: e.from, to: e.to })),
      table(['', t('statsInCampaign'), t('statsOutside')], [
        [t('statsDays'), orDash(e.days_in_campaign), orDash(e.days_outside)],
        [t('statsReports'), shown(e.reports_in_campaign), shown(e.reports_outside)],
        [t('statsPer30'), rate(e.per_30_days_in_campaign), rate(e.per_30_days_outside)],
      ]));
  }

  function alarms(a) {
    const secs = (s) => orDash(s, (x) => (x < 120 ? `${x} s` : `${Math.round(x / 60)} min`));
    return h('section', { class: 'stats-figure', id: 'stats-alarms' }, h('h3', {}, t('statsAlarmsTitle')),
      h('div', { class: 'tiles' },
        tile('stat-alarms', t('statsAlarmsReal'), shown(a.real)),
        tile('stat-from-checkin', t('statsFromCheckin'), shown(a.from_checkin)),
        tile('stat-ack-median', t('statsAckMedian'), secs(a.ack_median_seconds), t('statsAckP90', { v: secs(a.ack_p90_seconds) })),
        tile('stat-escalated', t('statsEscalated'), shown(a.escalated))));
  }

  await load();
}
