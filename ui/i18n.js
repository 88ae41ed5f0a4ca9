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

/** Local date and time, e.g. "24 nov. 2026 14:05". */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'sv-SE', {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** Short: "14:05" today, else "24 nov. 14:05". */
export function formatShort(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  const locale = lang === 'en' ? 'en-GB' : 'sv-SE';
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(locale, { day: 'numeric', month: 'short' })} ${time}`;
}

/** Time of day only, e.g. "14:05:09". */
export function formatClock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  return d.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'sv-SE');
}
