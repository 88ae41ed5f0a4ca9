// A date and time field of our own, in the UI's language: ÅÅÅÅ-MM-DD and a 24-hour TT:MM in
// Swedish (the platform's picker follows the system's locale: 12/29/2026, Sunday first), and
// a month calendar that opens in the page's flow (it never floats over the page), weeks
// starting on Monday with their ISO week numbers. The field's element carries `value` as a
// datetime-local input does ("2026-12-29T18:00", or "" while incomplete) and fires `input`.

import { h, replace } from './dom.js';
import { t, currentLang } from './i18n.js';

const pad = (n) => String(n).padStart(2, '0');

/** "2026-12-29" from a date. */
function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A typed date as "YYYY-MM-DD", or null: 2026-12-29 or 20261229. */
export function parseDate(text) {
  const m = text.trim().match(/^(\d{4})-?(\d{2})-?(\d{2})$/);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(y, mo - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** A typed time as "HH:MM" (24 h), or null: 18:00, 18.00, 1800 or 18. */
export function parseTime(text) {
  const m = text.trim().match(/^(\d{1,2})(?:[:.]?(\d{2}))?$/);
  if (!m) return null;
  const [hh, mm] = [Number(m[1]), Number(m[2] ?? 0)];
  if (hh > 23 || mm > 59) return null;
  return `${pad(hh)}:${pad(mm)}`;
}

/** The ISO week number of a date (weeks start on Monday; week 1 holds the 4th of January). */
export function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return Math.ceil(((d - yearStart) / 86400000 + 1) / 7);
}

function locale() {
  return currentLang() === 'en' ? 'en-GB' : 'sv-SE';
}

/**
 * A labelled date-and-time field. `id` names the element that carries `value`; the date
 * input is `${id}-date`, the time `${id}-time`, the calendar button `${id}-cal`.
 */
export function dateTimeField({ id, label, value = '', required = false }) {
  const [d0, t0] = (value || '').split('T');
  const date = h('input', {
    id: `${id}-date`, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    class: 'date-input', value: d0 ?? '', placeholder: t('date.placeholder'), 'aria-label': t('date.date_of', { label }),
    required,
  });
  const time = h('input', {
    id: `${id}-time`, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    class: 'time-input', value: (t0 ?? '').slice(0, 5), placeholder: t('date.time_placeholder'), 'aria-label': t('date.time_of', { label }),
    required,
  });
  const error = h('p', { class: 'error-text date-error', id: `${id}-error`, role: 'alert', hidden: true });
  const calendar = h('div', { class: 'calendar', id: `${id}-calendar`, hidden: true });
  const calButton = h('button', {
    type: 'button', class: 'btn secondary cal-button', id: `${id}-cal`, 'aria-expanded': 'false',
    'aria-controls': `${id}-calendar`, 'aria-label': t('date.open_calendar', { label }),
  }, t('date.calendar'));
  const root = h('div', { class: 'field datetime', id },
    h('label', { for: `${id}-date` }, label),
    h('div', { class: 'datetime-row' }, date, time, calButton),
    error, calendar);

  const current = () => {
    const d = parseDate(date.value);
    const tm = parseTime(time.value);
    return d && tm ? `${d}T${tm}` : '';
  };
  const check = () => {
    const badDate = date.value.trim() !== '' && !parseDate(date.value);
    const badTime = time.value.trim() !== '' && !parseTime(time.value);
    date.setAttribute('aria-invalid', badDate ? 'true' : 'false');
    time.setAttribute('aria-invalid', badTime ? 'true' : 'false');
    error.hidden = !badDate && !badTime;
    replace(error, badDate ? t('date.bad_date') : badTime ? t('date.bad_time') : '');
  };
  const changed = () => {
    check();
    root.dispatchEvent(new Event('input', { bubbles: true }));
  };
  date.addEventListener('input', changed);
  time.addEventListener('input', changed);
  // Tidied on leaving a field: 1800 → 18:00, 20261229 → 2026-12-29.
  date.addEventListener('blur', () => { const d = parseDate(date.value); if (d && d !== date.value) { date.value = d; changed(); } });
  time.addEventListener('blur', () => { const tm = parseTime(time.value); if (tm && tm !== time.value) { time.value = tm; changed(); } });

  Object.defineProperty(root, 'value', {
    get: current,
    set(v) {
      const [d, tm] = String(v ?? '').split('T');
      date.value = d ?? '';
      time.value = (tm ?? '').slice(0, 5);
      check();
    },
  });

  let shown = null; // the month on show (a Date on its first day)
  const drawMonth = () => {
    const first = shown;
    const fmt = new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric' });
    const dayName = new Intl.DateTimeFormat(locale(), { weekday: 'short' });
    const full = new Intl.DateTimeFormat(locale(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    const selected = parseDate(date.value);
    const today = isoDate(new Date());
    // From the Monday on or before the 1st, six weeks.
    const start = new Date(first);
    start.setDate(1 - ((first.getDay() + 6) % 7));
    const weeks = [];
    for (let w = 0; w < 6; w++) {
      const days = [];
      const monday = new Date(start);
      monday.setDate(start.getDate() + w * 7);
      for (let i = 0; i < 7; i++) {
        const d = new Date(monday);
        d.setDate(monday.getDate() + i);
        const iso = isoDate(d);
        days.push(h('td', {},
          h('button', {
            type: 'button', class: `day${d.getMonth() === first.getMonth() ? '' : ' other'}${iso === today ? ' today' : ''}`,
            dataset: { date: iso }, 'aria-label': full.format(d), 'aria-pressed': iso === selected ? 'true' : 'false',
            tabindex: iso === (selected ?? today) ? '0' : '-1',
            onclick: () => {
              date.value = iso;
              if (!time.value) time.focus();
              close();
              changed();
            },
          }, String(d.getDate()))));
      }
      weeks.push(h('tr', {}, h('th', { scope: 'row', class: 'week' }, String(isoWeek(monday))), days));
    }
    const mondayRef = new Date(2024, 0, 1); // a Monday
    const heads = Array.from({ length: 7 }, (_, i) => {
      const d = new Date(mondayRef);
      d.setDate(1 + i);
      return h('th', { scope: 'col' }, dayName.format(d));
    });
    const step = (by) => {
      shown = new Date(shown.getFullYear(), shown.getMonth() + by, 1);
      drawMonth();
    };
    replace(calendar,
      h('div', { class: 'cal-head' },
        h('button', { type: 'button', class: 'btn secondary small', 'aria-label': t('date.prev_month'), onclick: () => step(-1) }, '‹'),
        h('strong', { class: 'cal-title', 'aria-live': 'polite' }, fmt.format(first)),
        h('button', { type: 'button', class: 'btn secondary small', 'aria-label': t('date.next_month'), onclick: () => step(1) }, '›')),
      h('table', { class: 'cal-grid', role: 'grid' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'week' }, t('date.week')), heads)),
        h('tbody', {}, weeks)));
  };
  const open = () => {
    const sel = parseDate(date.value);
    const base = sel ? new Date(`${sel}T12:00`) : new Date();
    shown = new Date(base.getFullYear(), base.getMonth(), 1);
    drawMonth();
    calendar.hidden = false;
    calButton.setAttribute('aria-expanded', 'true');
    calendar.querySelector('button.day[tabindex="0"]')?.focus();
  };
  function close() {
    calendar.hidden = true;
    calButton.setAttribute('aria-expanded', 'false');
  }
  calButton.addEventListener('click', () => (calendar.hidden ? open() : close()));
  // Arrow keys move a day or a week; Escape closes.
  calendar.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      close();
      calButton.focus();
      return;
    }
    const by = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
    const at = e.target.dataset?.date;
    if (!by || !at) return;
    e.preventDefault();
    const d = new Date(`${at}T12:00`);
    d.setDate(d.getDate() + by);
    if (d.getMonth() !== shown.getMonth()) {
      shown = new Date(d.getFullYear(), d.getMonth(), 1);
      drawMonth();
    }
    const target = calendar.querySelector(`button[data-date="${isoDate(d)}"]`);
    calendar.querySelectorAll('button.day').forEach((b) => { b.tabIndex = -1; });
    if (target) { target.tabIndex = 0; target.focus(); }
  });
  check();
  return root;
}

/** The date and time of a stored "YYYY-MM-DDTHH:MM" as the UI shows it (2026-12-29 18:00). */
export function showDateTime(v) {
  if (!v) return '';
  const [d, tm] = v.split('T');
  return tm ? `${d} ${tm.slice(0, 5)}` : d;
}
