// The autosave of every editor (reports, risk inventories): a change schedules a save
// (debounced); saves run one after another, so an older one never lands after a newer one;
// "Sparat" shows only once a save has been committed and nothing newer waits; flush() saves
// what is pending at once (before a view is left or the lock goes up); cancel() drops it.

import { h, replace, icon } from './dom.js';
import { t, formatClock } from './i18n.js';

/** How long typing may pause before the save. */
export const SAVE_DELAY_MS = 400;

/**
 * Autosave into `status` (the editor's "Sparat" line). `write()` saves the editor's state and
 * returns the time the store committed it; `notReady()`, if given, returns what to show
 * instead when the form cannot be saved yet (the change then stays pending).
 */
export function autosave(status, write, { notReady } = {}) {
  let timer = 0;
  let saving = Promise.resolve();
  let dirty = false;

  async function save() {
    const why = notReady?.();
    if (why) {
      replace(status, why);
      return;
    }
    dirty = false;
    saving = saving.then(async () => {
      replace(status, t('save.saving'));
      try {
        const committedAt = await write();
        if (!dirty) replace(status, icon('check'), t('save.saved', { time: formatClock(committedAt) }));
      } catch (e) {
        replace(status, h('span', { class: 'error-text' }, t('save.failed', { error: t(`error.${e.kind}`) })), ' ', e.message);
      }
    });
    await saving;
  }

  return {
    schedule() {
      dirty = true;
      clearTimeout(timer);
      replace(status, t('save.pending'));
      timer = setTimeout(save, SAVE_DELAY_MS);
    },
    flush() {
      clearTimeout(timer);
      return dirty ? save() : saving;
    },
    /** Drops what is pending (the editor's item is being deleted); waits for a save under way. */
    cancel() {
      clearTimeout(timer);
      dirty = false;
      return saving;
    },
  };
}
