// The alarm button: press and hold for HOLD_MS; letting go early does nothing, so a brush of
// the mouse cannot raise an alarm. While held, a bar fills along the button's bottom edge
// (never across its text) and the hint counts down the seconds. Silent by default (the
// person may be hiding: the plan's PDV card says "var tyst"); a tone at the end only when the
// person chose one in Inställningar. A short press says how to raise the alarm. Works with
// pointer, touch and keyboard (hold Space or Enter).

import { t } from './i18n.js';

export const HOLD_MS = 1500;
/** How long the "hold to raise" hint stays after a short press. */
const TAP_HINT_MS = 2500;

/** A short two-tone sound: the alarm was raised (only when the person chose it). */
function tone() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    const audio = new Ctx();
    const at = audio.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.4, at + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(at + i * 0.18);
      osc.stop(at + i * 0.18 + 0.17);
    }
    setTimeout(() => audio.close().catch(() => {}), 800);
  } catch { /* no sound: the alarm screen still opens */ }
}

/** Seconds left, as the hint shows them ("1,5 s" in Swedish, "1.5 s" in English). */
function secondsLeft(ms) {
  return (Math.max(0, ms) / 1000).toLocaleString(document.documentElement.lang || 'sv', {
    minimumFractionDigits: 1, maximumFractionDigits: 1,
  });
}

/**
 * Makes `button` raise the alarm when held. `hint` is the element under the label that shows
 * the countdown; `restHint()` gives its text at rest.
 */
export function holdToTrigger(button, onTrigger, { hint = null, restHint = () => '', startedAt = 0, sound = () => false } = {}) {
  let start = 0;
  let frame = 0;
  let fired = false;
  let tapTimer = 0;

  const progress = (p) => button.style.setProperty('--hold', String(p));
  const say = (text) => { if (hint) hint.textContent = text; };

  const stop = (early) => {
    cancelAnimationFrame(frame);
    frame = 0;
    const wasHolding = start !== 0;
    start = 0;
    button.classList.remove('holding');
    progress(0);
    if (early && wasHolding) {
      // Let go too soon: say how, for a moment, without raising anything.
      button.classList.add('tapped');
      say(t('sos.hold_to_alarm'));
      clearTimeout(tapTimer);
      tapTimer = setTimeout(() => {
        button.classList.remove('tapped');
        say(restHint());
      }, TAP_HINT_MS);
    } else if (!button.classList.contains('tapped')) {
      say(restHint());
    }
  };

  const tick = () => {
    const held = performance.now() - start;
    const p = Math.min(1, held / HOLD_MS);
    progress(p);
    say(t('sos.hold_countdown', { s: secondsLeft(HOLD_MS - held) }));
    if (p >= 1) {
      fired = true;
      stop(false);
      if (sound()) tone();
      onTrigger();
      return;
    }
    frame = requestAnimationFrame(tick);
  };

  const begin = () => {
    if (start) return;
    fired = false;
    clearTimeout(tapTimer);
    button.classList.remove('tapped');
    start = performance.now();
    button.classList.add('holding');
    frame = requestAnimationFrame(tick);
  };

  // A press that began before this was wired (ui/shell.js) counts from its start.
  if (startedAt > 0) {
    fired = false;
    start = startedAt;
    button.classList.add('holding');
    frame = requestAnimationFrame(tick);
  }

  button.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    button.setPointerCapture?.(e.pointerId);
    begin();
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    button.addEventListener(ev, () => { if (!fired) stop(true); });
  }
  button.addEventListener('keydown', (e) => {
    if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
      e.preventDefault();
      begin();
    }
  });
  button.addEventListener('keyup', (e) => {
    if ((e.key === ' ' || e.key === 'Enter') && !fired) stop(true);
  });
  button.addEventListener('blur', () => { if (start) stop(false); });
  // A click (release) never triggers by itself.
  button.addEventListener('click', (e) => e.preventDefault());
}
