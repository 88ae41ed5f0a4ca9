// The alarm button: press and hold for HOLD_MS (a ring fills while you hold); letting go early
// does nothing, so a brush of the mouse cannot raise an alarm. Works with pointer, touch and
// keyboard (hold Space or Enter).

export const HOLD_MS = 1500;

export function holdToTrigger(button, onTrigger) {
  let start = 0;
  let frame = 0;
  let fired = false;

  const progress = (p) => button.style.setProperty('--hold', String(p));

  const stop = () => {
    cancelAnimationFrame(frame);
    frame = 0;
    start = 0;
    button.classList.remove('holding');
    progress(0);
  };

  const tick = () => {
    const p = Math.min(1, (performance.now() - start) / HOLD_MS);
    progress(p);
    if (p >= 1) {
      fired = true;
      stop();
      onTrigger();
      return;
    }
    frame = requestAnimationFrame(tick);
  };

  const begin = () => {
    if (start) return;
    fired = false;
    start = performance.now();
    button.classList.add('holding');
    frame = requestAnimationFrame(tick);
  };

  button.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    button.setPointerCapture?.(e.pointerId);
    begin();
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    button.addEventListener(ev, () => { if (!fired) stop(); });
  }
  button.addEventListener('keydown', (e) => {
    if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
      e.preventDefault();
      begin();
    }
  });
  button.addEventListener('keyup', (e) => {
    if (e.key === ' ' || e.key === 'Enter') stop();
  });
  button.addEventListener('blur', stop);
  // A click (release) never triggers by itself.
  button.addEventListener('click', (e) => e.preventDefault());
}
