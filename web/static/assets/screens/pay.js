// Paying a merchant's order: open its QR link (camera, where the browser can read
// QR codes by itself, or paste), see the merchant and amount, pick balance or a
// card and a coupon, and confirm with the payment password.

import { h, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api, Idem, findOrderId, session } from '../api.js';
import { cny } from '../money.js';
import { couponText, orderStatusName } from '../labels.js';
import { page, field, input, errorBox, codeButton, busy, keypad, sleep, toast } from '../ui.js';
import { icon } from '../icons.js';

export function scan({ view, app }) {
  const errors = errorBox();
  const link = input({ type: 'text', name: 'link', placeholder: 'https://…/pay/ord_…', autocomplete: 'off' });
  const go = h('button', { class: 'btn primary block', type: 'submit' }, t('scan.open'));
  const form = h('form', { class: 'form', id: 'scan-form', novalidate: true }, field(t('scan.paste'), link, t('scan.pasteHint')), errors, go);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = findOrderId(link.value);
    if (!id) { errors.show(t('v.payLink')); return; }
    app.go('pay/' + id);
  });
  const body = [form];
  if ('BarcodeDetector' in window && navigator.mediaDevices?.getUserMedia) {
    const video = h('video', { class: 'camera', playsinline: true, muted: true, hidden: true });
    const camBtn = h('button', { class: 'btn ghost block', type: 'button', id: 'camera' }, icon('camera'), t('scan.camera'));
    let stream = null, timer = null;
    const stop = () => { clearInterval(timer); stream?.getTracks().forEach((tr) => tr.stop()); stream = null; video.hidden = true; };
    app.onLeave(stop);
    camBtn.addEventListener('click', async () => {
      errors.clear();
      try {
        const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        video.srcObject = stream;
        video.hidden = false;
        await video.play();
        timer = setInterval(async () => {
          const found = await detector.detect(video).catch(() => []);
          const id = found.map((c) => findOrderId(c.rawValue)).find(Boolean);
          if (id) { stop(); app.go('pay/' + id); }
        }, 300);
      } catch {
        stop();
        errors.show(t('scan.noCamera'));
      }
    });
    body.unshift(camBtn, video);
  }
  view.append(...page(t('scan.title'), body, { back: '#/' }));
}

export async function order(ctx) {
  const { view, params } = ctx;
  const o = await api('GET', '/v1/orders/' + encodeURIComponent(params.id));
  const head = h('section', { class: 'order', id: 'order' },
    h('p', { class: 'muted' }, t('pay.to')),
    h('h2', { id: 'order-merchant' }, o.merchant.name),
    h('p', { class: 'amount', id: 'order-amount' }, cny(o.amount)),
    h('p', null, o.subject),
    h('p', null, h('span', { class: 'pill ' + o.status, id: 'order-status' }, orderStatusName(o.status))));
  if (o.status !== 'NOTPAY') {
    view.append(...page(t('pay.title'), [head,
      o.paid_by_you ? h('p', { class: 'center' }, h('a', { href: '#/tx/' + o.transaction_id }, t('pay.seeTx'))) : null,
      h('a', { class: 'btn ghost block', href: '#/' }, t('open.home'))], { back: '#/scan' }));
    return;
  }
  head.appendChild(h('p', { class: 'muted small' }, t('pay.before', { time: when(o.expires_at, lang()) })));
  const [wallet, cards, coupons] = await Promise.all([
    api('GET', '/v1/wallet'), api('GET', '/v1/cards'), api('GET', '/v1/coupons?order_id=' + encodeURIComponent(o.id)),
  ]);
  const errors = errorBox();
  const idem = new Idem();
  const methods = [{ value: 'balance', label: t('pay.balance', { amount: cny(wallet.balance + wallet.promo_balance) }) },
    ...cards.cards.map((c) => ({ value: 'card:' + c.id, label: `${c.bank_name} ${c.masked_number}` }))];
  const method = h('select', { name: 'method', id: 'pay-method' }, methods.map((m) => h('option', { value: m.value }, m.label)));
  const usable = coupons.items.filter((c) => (c.discount || 0) > 0).sort((a, b) => b.discount - a.discount);
  const coupon = h('select', { name: 'coupon', id: 'pay-coupon' },
    h('option', { value: '' }, usable.length ? t('pay.noCoupon') : t('pay.noneUsable')),
    usable.map((c, i) => h('option', { value: c.id, selected: i === 0 }, `${couponText(c)} (−${cny(c.discount)})`)));
  const due = h('strong', { id: 'pay-due' });
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const fCode = field(t('f.stepUpCode'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'step_up', errors)), t('pay.stepUp'));
  fCode.hidden = true;
  const update = () => {
    const byCard = method.value.startsWith('card:');
    coupon.disabled = byCard;
    const c = byCard ? null : usable.find((x) => x.id === coupon.value);
    due.textContent = cny(o.amount - (c ? c.discount : 0));
  };
  method.addEventListener('change', update);
  coupon.addEventListener('change', update);
  update();
  const submit = h('button', { class: 'btn primary block', type: 'submit', id: 'pay-submit' }, t('pay.submit'));
  const form = h('form', { class: 'form', id: 'pay-form', novalidate: true },
    field(t('pay.method'), method),
    field(t('pay.coupon'), coupon),
    h('p', { class: 'due' }, t('pay.due'), ' ', due),
    fCode, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    const body = {};
    if (method.value.startsWith('card:')) { body.method = 'card'; body.card_id = method.value.slice(5); } else {
      body.method = 'balance';
      if (coupon.value) body.coupon_id = coupon.value;
    }
    if (!fCode.hidden) {
      if (!/^\d{6}$/.test(code.value)) { fCode.fail(t('v.code')); return; }
      body.otp = code.value;
    }
    const pw = await keypad({ detail: t('pay.keypad', { amount: due.textContent, merchant: o.merchant.name }) });
    if (!pw) return;
    body.payment_password = pw;
    busy(submit, async () => {
      try {
        const r = await api('POST', `/v1/orders/${o.id}/pay`, { body, idem: idem.for(body) });
        idem.done();
        await paid(ctx, o, r);
      } catch (err) {
        if (err.code === 'step_up_required') fCode.hidden = false;
        errors.show(err);
      }
    });
  });
  view.append(...page(t('pay.title'), [head, form], { back: '#/scan' }));
}

// paid shows the outcome; a card payment (202) is followed until the bank answers.
async function paid({ view, app }, o, r) {
  const status = h('p', { class: 'center', id: 'pay-result-status' });
  const box = h('section', { class: 'done', id: 'pay-done' },
    h('h2', { id: 'pay-result' }, '…'),
    h('p', { class: 'amount' }, cny(r.transaction.amount)),
    h('p', null, o.merchant.name, ' · ', o.subject),
    status,
    h('a', { class: 'btn ghost block', href: '#/tx/' + r.transaction.id, id: 'pay-see-tx' }, t('pay.seeTx')),
    h('a', { class: 'btn primary block', href: '#/' }, t('open.home')));
  view.replaceChildren(...page(t('pay.title'), box, { back: '#/' }));
  let order = r.order, tx = r.transaction;
  for (let i = 0; i < 60 && order.status === 'NOTPAY' && tx.status === 'pending' && box.isConnected; i++) {
    box.querySelector('#pay-result').textContent = t('pay.pending');
    await sleep(1500);
    [order, tx] = await Promise.all([api('GET', '/v1/orders/' + o.id), api('GET', '/v1/transactions/' + tx.id)]);
  }
  const ok = order.status === 'SUCCESS' || order.status === 'REFUND';
  box.dataset.status = ok ? 'succeeded' : tx.status;
  box.querySelector('#pay-result').replaceChildren(...(ok ? [icon('ok', 'big ok'), t('pay.success')] : [tx.status === 'failed' ? t('pay.failed') : t('pay.pending')]));
  if (tx.failure && !ok) {
    status.replaceChildren(h('span', null, tx.failure.explanation), h('br'), h('span', { class: 'muted' }, tx.failure.next_step));
  }
  if (ok) toast(t('pay.success'), 'ok');
  app.refreshChrome();
}
