// Coupons and points: the usable coupons, the points balance with what expires
// when, the history, and the running campaigns' offers to redeem.

import { h, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api, Idem } from '../api.js';
import { cny } from '../money.js';
import { couponText } from '../labels.js';
import { page, field, input, errorBox, busy, toast, redraw } from '../ui.js';

export async function render(ctx) {
  const { view } = ctx;
  const [coupons, points] = await Promise.all([api('GET', '/v1/coupons'), api('GET', '/v1/points')]);
  const again = () => redraw(ctx, render);
  const couponList = coupons.items.length
    ? h('ul', { class: 'coupons', id: 'coupons' }, coupons.items.map((c) => h('li', { class: 'coupon' },
      h('strong', null, couponText(c)),
      h('span', { class: 'muted small' }, t('coupon.until', { date: when(c.valid_until, lang()) })),
      c.merchant_id ? h('span', { class: 'muted small' }, t('coupon.merchant')) : null)))
    : h('p', { class: 'muted' }, t('coupons.none'));
  const offers = points.offers.map((o) => offer(o, points.balance, again));
  view.append(...page(t('rewards.title'), [
    h('section', { class: 'panel' }, h('h2', null, t('coupons.title')), couponList),
    h('section', { class: 'panel', id: 'points' },
      h('h2', null, t('points.title')),
      h('p', { class: 'balance small-balance' }, h('span', { id: 'points-total' }, String(points.balance)), ' ', t('points.unit')),
      points.buckets.length ? h('ul', { class: 'plain small' }, points.buckets.map((b) => h('li', null,
        t('points.bucket', { n: b.remaining, year: b.year, date: when(b.expires_at, lang()) })))) : null,
      h('p', { class: 'muted small' }, t('points.earn'))),
    h('section', { class: 'panel' }, h('h2', null, t('points.offers')), offers.length ? offers : h('p', { class: 'muted' }, t('points.noOffers'))),
    h('section', { class: 'panel' }, h('h2', null, t('points.history')),
      points.history.length ? h('ul', { class: 'plain' }, points.history.map((e) => h('li', { class: 'row spread' },
        h('span', null, t('points.kind.' + e.kind, {}, e.kind), ' ', h('span', { class: 'muted small' }, when(e.created_at, lang()))),
        h('strong', { class: e.amount > 0 ? 'plus' : 'minus' }, (e.amount > 0 ? '+' : '') + e.amount)))) : h('p', { class: 'muted' }, t('points.none'))),
  ], { back: '#/' }));
}

function offer(o, balance, done) {
  const errors = errorBox();
  const idem = new Idem();
  if (o.kind === 'cash') {
    const pts = input({ type: 'text', inputmode: 'numeric', name: 'points', value: String(o.points), maxlength: 12 });
    const f = field(t('points.howMany'), pts, t('points.cashRate', { points: o.points, fen: cny(o.fen) }));
    const btn = h('button', { class: 'btn small primary', type: 'submit' }, t('points.redeem'));
    const form = h('form', { class: 'offer', novalidate: true }, h('strong', null, t('points.cash'), ' · ', o.campaign_name), f, errors, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      errors.clear();
      const n = pts.value.trim();
      if (!/^[1-9]\d*$/.test(n) || Number(n) % o.points !== 0) { f.fail(t('v.pointsStep', { step: o.points })); return; }
      if (Number(n) > balance) { f.fail(t('v.pointsTooMany')); return; }
      const body = { campaign_id: o.campaign_id, kind: 'cash', points: Number(n) };
      busy(btn, async () => {
        try {
          const r = await api('POST', '/v1/points/redeem', { body, idem: idem.for(body) });
          idem.done();
          toast(t('points.gotCash', { amount: cny(r.cash) }), 'ok');
          done();
        } catch (err) { errors.show(err); }
      });
    });
    return form;
  }
  const btn = h('button', { class: 'btn small primary', type: 'button', disabled: o.left === 0 || balance < o.points }, t('points.redeem'));
  btn.addEventListener('click', () => {
    errors.clear();
    const body = { campaign_id: o.campaign_id, kind: 'coupon', coupon: o.index };
    busy(btn, async () => {
      try {
        await api('POST', '/v1/points/redeem', { body, idem: idem.for(body) });
        idem.done();
        toast(t('points.gotCoupon'), 'ok');
        done();
      } catch (err) { errors.show(err); }
    });
  });
  return h('div', { class: 'offer' },
    h('strong', null, couponText(o.coupon), ' · ', t('points.price', { points: o.points })),
    h('span', { class: 'muted small' }, o.campaign_name, o.left >= 0 ? ' · ' + t('points.left', { n: o.left }) : ''),
    errors, btn);
}
