// The UI's strings. Both tables arrive from Rust at start (they live in ui/i18n/*.json);
// `t(key, vars)` looks a key up in the current language and fills in {placeholders}.

let tables = { sv: {}, en: {} };
let lang = 'sv';

export function setTables(t) {
  tables = t;
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'sv';
  document.documentElement.lang = lang;
}

export function currentLang() {
  return lang;
}

export function t(key, vars = {}) {
  const s = tables[lang]?.[key] ?? tables.sv?.[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** The plan text in the chosen language: `{ sv, en }` objects and items with sv/en fields. */
export function pick(obj, l = lang) {
  if (!obj) return '';
  return (l === 'en' ? obj.en : obj.sv) ?? obj.sv ?? '';
}

const pad = (n) => String(n).padStart(2, '0');
/** A local date as ÅÅÅÅ-MM-DD, the form Swedish lists and forms use (in English too). */
const isoDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** Local date and time, e.g. "2026-11-24 14:05". */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${isoDate(d)} ${hhmm(d)}`;
}

/** Short: "14:05" today, else "2026-11-24 14:05". */
export function formatShort(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  if (d.toDateString() === new Date().toDateString()) return hhmm(d);
  return `${isoDate(d)} ${hhmm(d)}`;
}

/** Time of day only, e.g. "14:05:09". */
export function formatClock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  return d.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'sv-SE');
}
