// The one "newer" rule in ui/state.js, run by Node (`node --test tests/ui/*.mjs`, scripts/test):
// a check-in or an alarm arrives both as a command's answer or a poll and as an event, and an
// older state must never replace a newer one.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ctx, newer, takeAlarm, takeCheckin, takeCheckinPoll } from '../../ui/state.js';

const checkin = (id, revision, phase = 'active') => ({ id, revision, phase });

test('an older poll answer never overwrites a newer check-in', () => {
  ctx.checkin = null;
  const before = ctx.checkin;
  // The poll goes out; meanwhile an event brings the check-in extended (revision 3).
  takeCheckin(checkin('k1', 3));
  // The poll's answer was read before the extension: revision 2.
  takeCheckinPoll(before, checkin('k1', 2));
  assert.equal(ctx.checkin.revision, 3);
  // A newer answer is taken.
  takeCheckinPoll(ctx.checkin, checkin('k1', 4));
  assert.equal(ctx.checkin.revision, 4);
});

test('"no active check-in" lets go only of the one held when the poll was sent', () => {
  ctx.checkin = checkin('k1', 1);
  const before = ctx.checkin;
  // An event brings a new check-in while the poll (which found none) is on its way.
  takeCheckin(checkin('k2', 1));
  takeCheckinPoll(before, null);
  assert.equal(ctx.checkin.id, 'k2', 'the new check-in stays');
  takeCheckinPoll(ctx.checkin, null);
  assert.equal(ctx.checkin, null, 'the held one ended');
});

test('a finished check-in is let go, an older alarm never replaces a newer one', () => {
  ctx.checkin = checkin('k1', 2);
  takeCheckin(checkin('k1', 3, 'done'));
  assert.equal(ctx.checkin, null);
  ctx.activeAlarm = null;
  takeAlarm({ id: 'a1', revision: 2, triggered_at: '2026-12-03T18:00:00Z' });
  takeAlarm({ id: 'a1', revision: 1, triggered_at: '2026-12-03T18:00:00Z' });
  assert.equal(ctx.activeAlarm.revision, 2);
  takeAlarm({ id: 'a0', revision: 9, triggered_at: '2026-12-03T17:00:00Z' });
  assert.equal(ctx.activeAlarm.id, 'a1', 'an older alarm does not take over');
  assert.equal(newer(null, null), false);
});

test('put sets declared fields and refuses a name the state does not have', async () => {
  const { put } = await import('../../ui/state.js');
  put({ currentPlace: 'Torget' });
  assert.equal(ctx.currentPlace, 'Torget');
  assert.throws(() => put({ curentPlace: 'Torget' }), /no field "curentPlace"/);
  assert.equal('curentPlace' in ctx, false);
});
