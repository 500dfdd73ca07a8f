// The payment code (付款码): 18 digits shown as text, a barcode and a QR code, valid
// 60 seconds and refreshed before it runs out. When a till takes it above the
// password-free allowance, a notification says the till is waiting, and the
// customer confirms with the payment password.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api, Idem } from '../api.js';
import { cny } from '../money.js';
import { qrSVG, code128SVG } from '../codes.js';
import { errorBox, keypad, busy, page, toast } from '../ui.js';
import { icon } from '../icons.js';

export async function render({ view, app }) {
  const errors = errorBox();
  const digits = h('p', { class: 'paycode-digits', id: 'paycode-digits' });
  const bar = h('div', { class: 'paycode-bar' });
  const qr = h('div', { class: 'paycode-qr' });
  const countdown = h('p', { class: 'muted center', id: 'paycode-countdown' });
  const waiting = h('div', { id: 'till-waiting' });
  const refresh = h('button', { class: 'btn ghost block', type: 'button', id: 'paycode-refresh' }, t('code.refresh'));
  let expires = 0, timer = null, loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    errors.clear();
    try {
      const issued = Date.now();
      const c = await api('POST', '/v1/payment-codes');
      // A code lives 60 seconds. This device's clock may be off from the server's:
      // trust expires_at only to make the wait shorter, never longer.
      const byClock = new Date(c.expires_at).getTime() - Date.now();
      const life = byClock > 5000 && byClock < 60000 ? byClock : 60000;
      expires = issued + life;
      view.querySelector('.paycode').dataset.code = c.code;
      fill(digits, c.code.replace(/(\d{4})(?=\d)/g, '$1 '));
      fill(bar, code128SVG(c.code, t('code.barcode')));
      fill(qr, qrSVG(c.code, t('code.qr')));
      tick();
    } catch (err) {
      errors.show(err);
      fill(digits);
      fill(bar);
      fill(qr);
      expires = 0;
    } finally {
      loading = false;
    }
  }
  function tick() {
    if (!expires) { countdown.textContent = ''; return; }
    const left = Math.ceil((expires - Date.now()) / 1000);
    if (left <= 3) { load(); return; }
    countdown.textContent = t('code.countdown', { s: left });
  }
  timer = setInterval(tick, 1000);
  app.onLeave(() => clearInterval(timer));
  refresh.addEventListener('click', () => load());

  app.onNotification((n) => {
    if (n.kind === 'payment.pending') {
      // A code works once: the till has used this one.
      showWaiting(waiting, n);
      window.scrollTo(0, 0);
      load();
    }
    else if (n.kind === 'payment.succeeded') {
      fill(waiting, h('div', { class: 'done', id: 'till-paid' }, h('h2', null, icon('ok', 'big ok'), t('code.paid', { amount: cny(n.amount), who: n.counterparty }))));
      load();
    } else if (n.kind === 'payment.failed') {
      fill(waiting, h('div', { class: 'error' }, n.title));
    }
  });

  view.append(...page(t('code.title'), [
    waiting,
    h('section', { class: 'paycode' },
      h('p', { class: 'muted center small' }, t('code.hint')),
      bar, digits, qr, countdown),
    errors, refresh,
  ], { back: '#/' }));
  await load();
}

// showWaiting asks to confirm a till's payment. The order to confirm is the
// order_id of the pending payment the notification names (GET /v1/transactions/{id});
// without it the customer is told to confirm at the till instead.
async function showWaiting(box, n) {
  const errors = errorBox();
  let orderId = n.order_id || '';
  if (!orderId && n.transaction_id) {
    try {
      orderId = (await api('GET', '/v1/transactions/' + encodeURIComponent(n.transaction_id))).order_id || '';
    } catch (err) { errors.show(err); }
  }
  const idem = new Idem();
  const btn = h('button', { class: 'btn primary block', type: 'button', id: 'till-confirm', disabled: !orderId }, t('code.confirm'));
  btn.addEventListener('click', async () => {
    const pw = await keypad({ detail: t('pay.keypad', { amount: cny(n.amount), merchant: n.counterparty }) });
    if (!pw) return;
    const body = { order_id: orderId, payment_password: pw };
    busy(btn, async () => {
      try {
        await api('POST', '/v1/payment-codes/confirm', { body, idem: idem.for(body) });
        idem.done();
        toast(t('pay.success'), 'ok');
      } catch (err) { errors.show(err); }
    });
  });
  fill(box, h('section', { class: 'panel waiting' },
    h('h2', null, icon('clock', 'big'), t('code.waiting')),
    h('p', { class: 'amount' }, cny(n.amount)),
    h('p', null, n.counterparty),
    orderId ? null : h('p', { class: 'muted small' }, t('code.noOrderId')),
    btn, errors));
}
