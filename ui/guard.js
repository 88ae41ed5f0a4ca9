// Quick hide ("Dölj") and the lock screen. "Dölj" puts a neutral clock over everything at
// once; with a PIN set, the app behind it is locked too. The idle lock locks after the
// chosen minutes without use (never while an alarm screen is open). Behind the lock the
// alarm button and 112 still work; everything else needs the PIN (the Rust side refuses
// every other command while locked). Quitting behind the lock needs the PIN too.

import * as api from './api.js';
import { h, replace } from './dom.js';
import { t, currentLang } from './i18n.js';
import { pinDialog } from './dialog.js';
import { put } from './state.js';

/** Work that must land before the lock goes up (an editor's pending autosave): pairs of a
 * view's node and its flush (cheap when nothing is pending). The last few are kept, so an
 * editor left a moment ago still lands its last keystrokes. */
let pending = [];

/** Registers `flush` (returns a promise) to run before the lock. */
export function beforeLock(node, flush) {
  pending = [...pending.slice(-4), [node, flush]];
}

async function flushPending() {
  await Promise.allSettled(pending.map(([, flush]) => flush()));
  pending = pending.filter(([n]) => n.isConnected);
}

let ctx = null;
let lastInput = Date.now();
const IDLE_CHECK_MS = 5000;

export function setup(appCtx) {
  ctx = appCtx;
  // The tray's Avsluta or the window's close button behind the lock: the PIN first.
  api.on('quit-requested', () => {
    if (document.getElementById('pin-entry')) return;
    pinDialog(t('lock.quit_title'), t('lock.quit'), (pin) => api.quitApp(pin), { hint: t('lock.quit_hint') });
  });
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    window.addEventListener(ev, () => { lastInput = Date.now(); }, { capture: true, passive: true });
  }
  setInterval(checkIdle, IDLE_CHECK_MS);
}

function checkIdle() {
  const minutes = ctx.pin?.idle_lock_minutes ?? 0;
  if (!minutes || ctx.screenLocked || ctx.locked) return;
  // An open alarm's state must stay on screen.
  if (location.hash.startsWith('#/alarm')) return;
  if (Date.now() - lastInput >= minutes * 60000) lock();
}

/** Locks if a PIN is set; true when locked. An autosave on its way lands first. */
export async function lock() {
  await flushPending();
  try {
    if (!(await api.lockScreen())) return false;
  } catch {
    return false;
  }
  put({ screenLocked: true });
  ctx.go('#/lockscreen');
  return true;
}

/** "Dölj": the neutral screen first, then the lock behind it. */
export async function hide() {
  showNeutral();
  if (ctx.pin?.pin_set) await lock();
}

function showNeutral() {
  if (document.getElementById('neutral')) return;
  const time = h('p', { class: 'neutral-time' });
  const date = h('p', { class: 'neutral-date' });
  const tick = () => {
    const now = new Date();
    const locale = currentLang() === 'en' ? 'en-GB' : 'sv-SE';
    replace(time, now.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }));
    replace(date, now.toLocaleDateString(locale, { weekday: 'long', day: 'numeric', month: 'long' }));
  };
  tick();
  const clock = setInterval(tick, 15000);
  const cover = h('div', { id: 'neutral', class: 'neutral', role: 'button', tabindex: '0', 'aria-label': t('hide.back') },
    time, date);
  const back = () => {
    clearInterval(clock);
    cover.remove();
    api.setHidden(false).catch(() => {});
    document.body.classList.remove('hidden-mode');
    if (ctx.screenLocked) ctx.go('#/lockscreen');
  };
  cover.addEventListener('click', back);
  // The window's title and the tray's tooltip say nothing of Värn while the cover is up.
  api.setHidden(true).catch(() => {});
  cover.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') back(); });
  document.body.classList.add('hidden-mode');
  document.body.append(cover);
  cover.focus();
}
