// Campaigns for admins: every campaign, newest first, with its state and spend
// (GET /v1/admin/campaigns); one campaign's rules and figures by id; and a form for
// a new one with every rule POST /v1/admin/campaigns takes (opening red packet and
// coupons, points rate, points for cash or coupons).

import { h, fill, field, when, yuan, parseYuan } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query } from './staff-api.js';
import { form, submit, section, kv, badge, problem, loading, localError, pagedTable } from './staff-ui.js';

const stateKinds = { active: 'ok', scheduled: 'warn', budget_spent: 'bad', ended: 'muted' };

function stateBadge(state) {
  const b = badge(stateKinds[state] || 'muted', t('state.' + state));
  b.dataset.state = state;
  return b;
}

// money reads a yuan field as fen; empty is 0 when optional, so that the API
// says what is missing in its own words.
function money(input, label, optional) {
  const v = input.value.trim();
  if (v === '' && optional) return 0;
  const fen = parseYuan(v);
  if (fen === null) throw localError(t('cmp.invalidAmount', { field: label }));
  return fen;
}

function integer(input) {
  const v = input.value.trim();
  return v === '' ? 0 : Number(v);
}

// couponEditor edits one coupon template; value() returns it as the API takes it.
function couponEditor(onRemove) {
  const kind = h('select', { name: 'kind', class: 'cpn-kind' }, ['fixed', 'threshold', 'percent'].map((k) => h('option', { value: k }, t('cmp.kind.' + k))));
  const off = h('input', { name: 'off', inputmode: 'decimal', class: 'short' });
  const threshold = h('input', { name: 'threshold', inputmode: 'decimal', class: 'short' });
  const percent = h('input', { name: 'percent', type: 'number', min: 1, max: 99, class: 'short' });
  const cap = h('input', { name: 'cap', inputmode: 'decimal', class: 'short' });
  const days = h('input', { name: 'valid_days', type: 'number', min: 1, max: 366, value: '30', class: 'short' });
  const merchant = h('input', { name: 'merchant_id', autocomplete: 'off', spellcheck: 'false' });
  const fOff = field(t('cmp.off'), off);
  const fThreshold = field(t('cmp.threshold'), threshold);
  const fPercent = field(t('cmp.percent'), percent);
  const fCap = field(t('cmp.cap'), cap);
  const sync = () => {
    const k = kind.value;
    fOff.hidden = k === 'percent';
    fThreshold.hidden = k !== 'threshold';
    fPercent.hidden = fCap.hidden = k !== 'percent';
  };
  kind.addEventListener('change', sync);
  sync();
  const el = h('div', { class: 'coupon-editor' }, field(t('cmp.kind'), kind), fOff, fThreshold, fPercent, fCap,
    field(t('cmp.validDays'), days), field(t('cmp.merchant'), merchant),
    onRemove ? h('button', { type: 'button', class: 'link', onclick: () => onRemove(el) }, t('cmp.remove')) : null);
  el.value = () => {
    const c = { kind: kind.value, valid_days: integer(days) };
    if (c.kind === 'percent') {
      c.percent = integer(percent);
      c.cap = money(cap, t('cmp.cap'), true);
    } else {
      c.off = money(off, t('cmp.off'), true);
      if (c.kind === 'threshold') c.threshold = money(threshold, t('cmp.threshold'), true);
    }
    if (merchant.value.trim()) c.merchant_id = merchant.value.trim();
    return c;
  };
  return el;
}

// repeated is a list of editors with an "add" button.
function repeated(addLabel, make) {
  const list = h('div', { class: 'repeated' });
  const remove = (el) => el.remove();
  const add = h('button', { type: 'button', class: 'secondary small', onclick: () => list.appendChild(make(remove)) }, addLabel);
  const el = h('div', null, list, add);
  el.values = () => [...list.children].map((c) => c.value());
  return el;
}

function pointsCouponEditor(onRemove) {
  const points = h('input', { name: 'points', type: 'number', min: 1, class: 'short' });
  const per = h('input', { name: 'per_customer', type: 'number', min: 0, max: 1000, value: '1', class: 'short' });
  const coupon = couponEditor(null);
  const el = h('div', { class: 'coupon-editor points' }, field(t('cmp.points'), points), field(t('cmp.perCustomer'), per), coupon,
    h('button', { type: 'button', class: 'link', onclick: () => onRemove(el) }, t('cmp.remove')));
  el.value = () => ({ points: integer(points), coupon: coupon.value(), per_customer: integer(per) });
  return el;
}

function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function instant(input, label) {
  if (!input.value) throw localError(t('cmp.invalidTime', { field: label }));
  const d = new Date(input.value); // datetime-local: the admin's own zone
  if (Number.isNaN(d.getTime())) throw localError(t('cmp.invalidTime', { field: label }));
  return d.toISOString();
}

export async function campaignsPage(root, match) {
  const l = lang();
  const list = pagedTable({
    id: 'cmp-list',
    columns: [[t('cmp.name')], [t('cmp.state')], [t('cmp.budgetTotal'), 'num'], [t('cmp.spent'), 'num'],
      [t('cmp.remaining'), 'num'], [t('cmp.grants'), 'num'], [t('cmp.window')]],
    row: (c) => h('tr', { 'data-id': c.id, class: match && match[1] === c.id ? 'current' : null },
      h('td', null, h('a', { href: '#/campaigns/' + c.id }, c.name)),
      h('td', null, stateBadge(c.state)),
      h('td', { class: 'num' }, yuan(c.budget)),
      h('td', { class: 'num', 'data-field': 'spent' }, yuan(c.spent)),
      h('td', { class: 'num', 'data-field': 'remaining' }, yuan(c.remaining)),
      h('td', { class: 'num', 'data-field': 'grants' }, String(c.grants)),
      h('td', { class: 'small' }, when(c.starts_at, l), ' – ', when(c.ends_at, l))),
    load: (cursor) => api('GET', '/v1/admin/campaigns' + query({ limit: 20, cursor })),
    empty: t('cmp.empty'),
    shown: (n) => t('cmp.shown', { n }),
  });
  const view = h('div', { id: 'cmp-view' });
  const show = async (id) => {
    fill(view, loading());
    try {
      const c = await api('GET', '/v1/admin/campaigns/' + encodeURIComponent(id));
      showCampaign(view, c);
    } catch (err) {
      fill(view, problem(err));
    }
  };

  const now = new Date();
  const name = h('input', { id: 'cmp-name', name: 'name', maxlength: 100, required: true });
  const starts = h('input', { id: 'cmp-starts', name: 'starts_at', type: 'datetime-local', value: localInput(now) });
  const ends = h('input', { id: 'cmp-ends', name: 'ends_at', type: 'datetime-local', value: localInput(new Date(now.getTime() + 30 * 86400e3)) });
  const budget = h('input', { id: 'cmp-budget', name: 'budget', inputmode: 'decimal', required: true });
  const red = h('input', { id: 'cmp-red-packet', name: 'opening_red_packet', inputmode: 'decimal' });
  const ppy = h('input', { id: 'cmp-points-per-yuan', name: 'points_per_yuan', type: 'number', min: 0, max: 100, value: '0', class: 'short' });
  const cashPoints = h('input', { name: 'points_cash_points', type: 'number', min: 1, class: 'short' });
  const cashYuan = h('input', { name: 'points_cash_yuan', inputmode: 'decimal', class: 'short' });
  const coupons = repeated(t('cmp.addCoupon'), couponEditor);
  const pointsCoupons = repeated(t('cmp.addPointsCoupon'), pointsCouponEditor);

  const create = form({ id: 'cmp-form' }, [
    h('div', { class: 'grid two' },
      field(t('cmp.name'), name),
      field(t('cmp.budget'), budget, t('cmp.budgetHint')),
      field(t('cmp.starts'), starts),
      field(t('cmp.ends'), ends)),
    h('fieldset', null, h('legend', null, t('cmp.opening')),
      field(t('cmp.redPacket'), red, t('cmp.redPacketHint')), h('p', { class: 'label' }, t('cmp.openingCoupons')), coupons),
    h('fieldset', null, h('legend', null, t('cmp.pointsGroup')),
      field(t('cmp.pointsPerYuan'), ppy, t('cmp.pointsPerYuanHint')),
      h('p', { class: 'label' }, t('cmp.pointsCash')),
      h('div', { class: 'inline-form' }, field(t('cmp.pointsCashPoints'), cashPoints), field(t('cmp.pointsCashYuan'), cashYuan)),
      h('small', { class: 'hint' }, t('cmp.pointsCashHint'))),
    h('fieldset', null, h('legend', null, t('cmp.pointsCoupons')), pointsCoupons),
    submit(t('cmp.submit')),
  ], async () => {
    const rules = { opening_red_packet: money(red, t('cmp.redPacket'), true), points_per_yuan: integer(ppy) };
    const oc = coupons.values();
    if (oc.length) rules.opening_coupons = oc;
    if (cashPoints.value.trim() || cashYuan.value.trim()) {
      rules.points_cash = { points: integer(cashPoints), fen: money(cashYuan, t('cmp.pointsCashYuan')) };
    }
    const pc = pointsCoupons.values();
    if (pc.length) rules.points_coupons = pc;
    const c = await api('POST', '/v1/admin/campaigns', {
      name: name.value, starts_at: instant(starts, t('cmp.starts')), ends_at: instant(ends, t('cmp.ends')),
      budget: money(budget, t('cmp.budget')), rules,
    });
    name.value = ''; // a second press would be a second campaign: the API asks for a name first
    showCampaign(view, c);
    list.reload();
    view.scrollIntoView({ block: 'start' });
    return t('cmp.createdNote');
  });

  const lookupID = h('input', { id: 'cmp-lookup-id', name: 'id', autocomplete: 'off', spellcheck: 'false', required: true });
  const lookup = form({ id: 'cmp-lookup', class: 'inline-form' }, [field(t('cmp.id'), lookupID), submit(t('cmp.show'), 'secondary')],
    async () => { await show(lookupID.value.trim() || '-'); });

  fill(root, h('h2', null, t('cmp.title')),
    view,
    section(t('cmp.list'), list),
    section(t('cmp.lookup'), lookup),
    section(t('cmp.create'), create));
  await Promise.all([list.reload(), match && match[1] ? show(match[1]) : null]);
}

function describeCoupon(c) {
  let s;
  if (c.kind === 'fixed') s = t('cpn.fixed', { off: yuan(c.off) });
  else if (c.kind === 'threshold') s = t('cpn.threshold', { threshold: yuan(c.threshold), off: yuan(c.off) });
  else s = t('cpn.percent', { percent: c.percent, cap: yuan(c.cap) });
  s += ' · ' + t('cpn.days', { n: c.valid_days });
  if (c.merchant_id) s += ' · ' + t('cpn.merchant', { id: c.merchant_id });
  return s;
}

function showCampaign(el, c) {
  const l = lang();
  const r = c.rules || {};
  const rules = [];
  if (r.opening_red_packet) rules.push(t('rule.redPacket', { amount: yuan(r.opening_red_packet) }));
  for (const cp of r.opening_coupons || []) rules.push(t('rule.openingCoupon', { coupon: describeCoupon(cp) }));
  if (r.points_per_yuan) rules.push(t('rule.pointsPerYuan', { n: r.points_per_yuan }));
  if (r.points_cash) rules.push(t('rule.pointsCash', { points: r.points_cash.points, amount: yuan(r.points_cash.fen) }));
  for (const o of r.points_coupons || []) {
    rules.push(t('rule.pointsCoupon', { points: o.points, coupon: describeCoupon(o.coupon) }) +
      (o.per_customer ? ' · ' + t('rule.perCustomer', { n: o.per_customer }) : ''));
  }
  const state = stateBadge(c.state);
  state.id = 'cmp-state';
  fill(el, h('section', { class: 'card', id: 'cmp-card' },
    h('h3', null, c.name, ' ', state),
    kv([
      [t('cmp.id'), h('code', null, c.id)],
      [t('cmp.window'), when(c.starts_at, l) + ' – ' + when(c.ends_at, l)],
      [t('cmp.budgetTotal'), yuan(c.budget)],
      [t('cmp.spent'), h('span', { id: 'cmp-spent' }, yuan(c.spent))],
      [t('cmp.remaining'), h('span', { id: 'cmp-remaining' }, yuan(c.remaining))],
      [t('cmp.grants'), String(c.grants)],
    ]),
    h('meter', { min: 0, max: Math.max(1, c.budget), value: c.spent, class: 'spend', 'aria-label': t('cmp.spent') }),
    h('h4', null, t('cmp.rules')),
    rules.length ? h('ul', { class: 'rules' }, rules.map((x) => h('li', null, x))) : h('p', { class: 'muted' }, t('none'))));
}
