// The first paint: index.html's shell — the top bar, 112, LARM and the tabs — in the person's
// language (remembered in localStorage from the last run), reported as painted, and only then
// the app itself (ui/app.js and its views) is loaded. A press on LARM that starts before the
// app has loaded counts from when it began (app.js takes it over).

import { uiReady } from './api.js';

const navigationStart = performance.timeOrigin;
const scriptRun = Date.now();

if (localStorage.getItem('varn-lang') === 'en') {
  document.documentElement.lang = 'en';
  for (const el of document.querySelectorAll('[data-en]')) el.textContent = el.dataset.en;
}

const panic = document.getElementById('panic');
// The keyboard's way to LARM from the first paint: the skip link (the first Tab stop) and
// Alt+L anywhere put focus on it; holding Space or Enter there raises the alarm.
const toAlarm = () => panic.focus();
const skip = document.getElementById('skip-to-alarm');
skip.addEventListener('click', toAlarm);
// Shown while it has focus (also where :focus does not apply, a window without the system's
// focus, as under a test's bare X server).
skip.addEventListener('focus', () => skip.classList.add('focused'));
skip.addEventListener('blur', () => skip.classList.remove('focused'));
document.addEventListener('keydown', (e) => {
  if (e.altKey && !e.ctrlKey && !e.metaKey && e.key.toLowerCase() === 'l') {
    e.preventDefault();
    toAlarm();
  }
});
window.varnEarlyPress = 0;
panic.addEventListener('pointerdown', (e) => {
  if (e.button !== 0 || window.varnAppLoaded) return;
  e.preventDefault();
  panic.setPointerCapture?.(e.pointerId);
  window.varnEarlyPress = performance.now();
});
for (const ev of ['pointerup', 'pointercancel']) {
  panic.addEventListener(ev, () => { window.varnEarlyPress = 0; });
}

// Every module at once instead of level by level as imports are discovered — after the paint.
const MODULES = ['app.js', 'state.js', 'router.js', 'chrome.js', 'dom.js', 'icons.js', 'autosave.js', 'i18n.js', 'dialog.js', 'panic.js', 'guard.js', 'datetime.js',
  'views/alarm.js', 'views/unlock.js', 'views/lockscreen.js', 'views/incident.js', 'views/common.js',
  'views/plan.js', 'views/card.js', 'views/contacts.js', 'views/reports.js', 'views/meeting.js',
  'views/checkin.js', 'views/inventory.js', 'views/settings.js', 'views/welcome.js'];

// The first frame comes before the shell is painted, the second after it.
requestAnimationFrame(() => {
  const firstFrame = Date.now();
  requestAnimationFrame(() => {
    uiReady([['navigation start', navigationStart], ['shell script run', scriptRun],
      ['first frame', firstFrame], ['shell painted', Date.now()]], 'shell').catch(() => {});
    for (const href of MODULES) {
      document.head.append(Object.assign(document.createElement('link'), { rel: 'modulepreload', href }));
    }
    import('./app.js');
  });
});
