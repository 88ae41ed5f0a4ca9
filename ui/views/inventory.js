// One risk inventory: what, when and where, the plan's questions rated as risk LÅG / MÅTTLIG /
// HÖG (the open ones, VEM and VAD, take a note), and the plan's advice when the rule says so.
// Every change is saved durably (debounced); "Sparat" is shown only after the save has been
// committed. The buttons share one neutral colour until the verdict, and nothing appears or
// disappears under the person's finger while they answer.

import * as api from '../api.js';
import { h, replace, icon } from '../dom.js';
import { t, pick, formatClock } from '../i18n.js';
import { confirmDialog } from '../dialog.js';
import * as guard from '../guard.js';
import { autosave } from '../autosave.js';
import { callButton, backLink } from './common.js';
import { dateTimeField } from '../datetime.js';

const LEVELS = ['low', 'moderate', 'high'];

export async function render(ctx, route) {
  const id = route.params[0];
  let saved = null;
  if (id && id !== 'new') {
    try {
      saved = await api.inventory(id);
    } catch (e) {
      return h('div', { class: 'empty' },
        h('p', {}, t(`error.${e.kind}`)), h('p', { class: 'detail' }, e.message),
        backLink(t('nav.back'), '#/meeting'));
    }
  }
  // A new inventory for a planned appearance starts with its what, when and where.
  const appearanceId = id === 'new' ? route.query.get('appearance') : null;
  let planned = null;
  if (appearanceId) {
    try {
      planned = (await api.appearances()).find((v) => v.appearance.id === appearanceId)?.appearance ?? null;
    } catch { /* an empty form still works */ }
  }
  return form(ctx, saved, planned);
}

function nowLocalInput() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function form(ctx, saved, planned = null) {
  const r = ctx.profile.risk;
  const state = {
    id: saved?.inventory.id ?? null,
    what: saved?.inventory.what ?? planned?.title ?? '',
    when: saved?.inventory.when ?? planned?.starts_at ?? nowLocalInput(),
    where: saved?.inventory.where ?? planned?.place ?? '',
    answers: structuredClone(saved?.inventory.answers ?? {}),
  };
  const status = h('p', { class: 'save-status', id: 'save-status', role: 'status', 'aria-live': 'polite' },
    saved ? t('save.saved', { time: formatClock(saved.updated_at) }) : t('inventory.fill_first'));
  const result = h('section', { class: 'result', id: 'risk-result', 'aria-live': 'polite' });
  // Nothing is stored before the appearance has a name and a time.
  const { schedule, flush, cancel } = autosave(status, async () => {
    const v = await api.saveInventory({
      id: state.id, what: state.what, when: state.when, where: state.where, answers: state.answers,
      appearance_id: planned?.id ?? null,
    });
    state.id = v.inventory.id;
    if (!location.hash.endsWith(state.id)) history.replaceState(null, '', `#/inventory/${state.id}`);
    drawResult(ctx, result, v.assessment);
    deleteBtn.hidden = false;
    return v.updated_at;
  }, { notReady: () => (!state.what.trim() || !state.when ? t('inventory.fill_first') : null) });

  const field = (name, label, type, attrs = {}) => {
    if (type === 'datetime-local') {
      const el = dateTimeField({ id: `inv-${name}`, label, value: state[name], required: true });
      el.addEventListener('input', () => { state[name] = el.value; schedule(); });
      return el;
    }
    const input = h(type === 'textarea' ? 'textarea' : 'input', {
      id: `inv-${name}`, name, type: type === 'textarea' ? null : type, value: state[name], required: name !== 'where', ...attrs,
    });
    input.addEventListener('input', () => { state[name] = input.value; schedule(); });
    return h('div', { class: 'field' }, h('label', { for: `inv-${name}` }, label), input);
  };

  const deleteBtn = h('button', {
    type: 'button', class: 'btn danger', id: 'delete-inventory', hidden: !state.id,
    onclick: async () => {
      if (!state.id) return;
      if (!(await confirmDialog(t('inventory.delete_confirm'), t('inventory.delete'), { danger: true }))) return;
      try {
        await cancel();
        await api.deleteInventory(state.id);
        ctx.go('#/meeting');
      } catch (e) {
        ctx.error(e);
      }
    },
  }, t('inventory.delete'));

  const questions = r.questions.map((q, qi) => questionBlock(ctx, q, qi, state, schedule));
  drawResult(ctx, result, saved?.assessment ?? null);
  // Prefilled from a planned appearance: saved and linked at once (it counts as done only
  // once a question is answered).
  if (planned && !saved) schedule();

  const root = h('div', { class: 'inventory' },
    backLink(t('meeting.title'), '#/meeting'),
    h('h2', {}, saved ? t('inventory.edit_title') : t('inventory.new')),
    h('section', { class: 'appearance' },
      field('what', t('inventory.what'), 'text', { maxlength: 200, placeholder: t('inventory.what_placeholder') }),
      field('when', t('inventory.when'), 'datetime-local'),
      field('where', t('inventory.where'), 'text', { maxlength: 200, placeholder: t('inventory.where_placeholder') })),
    status,
    h('p', { class: 'rule' }, pick(r.intro[2] ?? r.rule)),
    h('h3', {}, pick(r.questions_heading)),
    h('ol', { class: 'questions' }, questions),
    result,
    h('div', { class: 'row' }, deleteBtn));
  // "Dölj" or the idle lock: the last answers are saved before the lock goes up.
  guard.beforeLock(root, flush);
  return root;
}

function questionBlock(ctx, q, qi, state, schedule) {
  const r = ctx.profile.risk;
  const name = `q-${q.id}`;
  const answer = () => (state.answers[q.id] ??= { note: '' });
  // The note is always there (an open question is nothing but its note), so rating a question
  // never moves the next one down under the finger.
  const note = h('textarea', {
    id: `note-${q.id}`, rows: q.rated === false ? 2 : 1, maxlength: 4000,
    placeholder: t(q.rated === false ? 'inventory.open_placeholder' : 'inventory.note_placeholder'),
    'aria-label': t('inventory.note_for', { n: qi + 1 }),
  }, state.answers[q.id]?.note ?? '');
  note.addEventListener('input', () => {
    answer().note = note.value;
    schedule();
  });
  const legend = h('legend', {},
    q.label ? h('strong', {}, pick(q.label), ' – ') : null,
    h('span', { class: 'item-text' }, pick(q)));
  if (q.rated === false) {
    return h('li', { class: 'question open-question', id: `question-${q.id}` },
      h('fieldset', {}, legend,
        h('p', { class: 'rate-prompt' }, t('inventory.open_prompt'), ' ', h('span', { class: 'own-mark' }, t('inventory.own_mark'))),
        h('div', { class: 'note' }, note)));
  }
  const choices = LEVELS.map((level) => {
    const input = h('input', {
      type: 'radio', name, value: level, id: `${name}-${level}`,
      checked: state.answers[q.id]?.level === level,
    });
    input.addEventListener('change', () => {
      answer().level = level;
      schedule();
    });
    return h('label', { class: `level level-${level}`, for: `${name}-${level}` }, input, h('span', {}, pick(r.levels[level])));
  });
  return h('li', { class: 'question', id: `question-${q.id}` },
    h('fieldset', {}, legend,
      h('p', { class: 'rate-prompt', id: `${name}-prompt` }, t('inventory.rate_prompt'), ' ', h('span', { class: 'own-mark' }, t('inventory.own_mark'))),
      q.hint ? h('p', { class: 'rate-hint', id: `${name}-hint` }, pick(q.hint)) : null,
      h('div', { class: 'levels', role: 'radiogroup', 'aria-labelledby': `${name}-prompt` }, choices),
      h('div', { class: 'note' }, note)));
}

function drawResult(ctx, el, assessment) {
  const r = ctx.profile.risk;
  if (!assessment) {
    replace(el);
    return;
  }
  const counts = h('p', { class: 'counts', id: 'risk-counts' }, t('inventory.counts', {
    answered: assessment.answered, total: assessment.questions,
    moderate: assessment.moderate_or_higher, high: assessment.high,
  }));
  // No verdict from a few answers: "not met" only once every question is answered (the
  // advice shows as soon as the rule is met; more answers can only add to it).
  if (assessment.state === 'missing' || assessment.state === 'started') {
    el.className = 'result pending';
    replace(el, counts, h('p', { id: 'risk-verdict', dataset: { state: assessment.state } },
      t('inventory.result.pending', { left: assessment.questions - assessment.answered })));
    return;
  }
  if (assessment.state === 'complete') {
    el.className = 'result ok';
    replace(el, counts,
      h('p', { id: 'risk-verdict', dataset: { state: 'complete' } }, t('inventory.result.below')),
      h('p', { class: 'rule' }, pick(r.rule)),
      r.intro[1] ? h('p', {}, pick(r.intro[1])) : null);
    return;
  }
  el.className = 'result warn';
  const measures = r.measures.map((id) => ctx.profile.before.find((s) => s.id === id)).filter(Boolean);
  replace(el,
    h('h3', { id: 'risk-verdict', dataset: { state: 'advises' } }, icon('warning'), t('inventory.result.advise')),
    counts,
    h('p', { class: 'rule' }, pick(r.rule)),
    h('div', { class: 'card-calls', id: 'advice-calls' }, r.advice_contacts.map((id) => callButton(ctx, id, 'big'))),
    h('h4', {}, t('inventory.measures')),
    h('p', { class: 'detail', id: 'measures-page' }, t('inventory.measures_page')),
    h('ul', { class: 'measure-links' }, measures.map((s) =>
      h('li', {}, h('a', { href: `#/plan?phase=before&open=${s.id}&focus=${s.id}` }, pick(s.title))))),
    h('p', { id: 'advice-drill' }, t('drill.before_meeting'), ' ', h('span', { class: 'own-mark' }, t('inventory.own_mark'))),
    h('button', { type: 'button', class: 'btn secondary', id: 'advice-drill-start', onclick: () => ctx.raiseDrill() }, t('drill.start')));
}
