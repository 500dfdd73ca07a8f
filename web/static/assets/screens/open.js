// Opening the wallet (开通): real name, a bound card, the face check and the payment
// password, one step at a time, with the opening gifts shown.

import { h, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api, session, valid } from '../api.js';
import { cny } from '../money.js';
import { couponText } from '../labels.js';
import { page, field, input, errorBox, codeButton, check, busy, keypad, toast, redraw } from '../ui.js';
import { icon } from '../icons.js';

let realName = ''; // the name typed in step 1, to fill in the card holder

// paySet remembers that this app set the wallet's payment password, for the moment
// before GET /v1/wallet is read again (whose payment_password_set is the truth).
export const paySet = {
  get: (walletId) => localStorage.getItem('hebao.pp.' + walletId) === '1',
  set: (walletId) => localStorage.setItem('hebao.pp.' + walletId, '1'),
};

export async function render(ctx) {
  const { view } = ctx;
  const [wallet, cards, coupons] = await Promise.all([
    api('GET', '/v1/wallet'), api('GET', '/v1/cards'), api('GET', '/v1/coupons'),
  ]);
  let step;
  if (wallet.tier === 4) step = 1;
  else if (wallet.tier === 3 && cards.cards.length === 0) step = 2;
  else if (wallet.tier === 3) step = 3;
  else if (!(wallet.payment_password_set || paySet.get(wallet.id))) step = 4;
  else step = 5;

  const names = ['open.s1', 'open.s2', 'open.s3', 'open.s4'];
  const progress = h('ol', { class: 'steps' }, names.map((n, i) => h('li', { class: i + 1 < step ? 'done' : i + 1 === step ? 'on' : '' }, t(n))));
  const gifts = giftBox(wallet, coupons.items);
  const rerender = () => redraw(ctx, render);
  const body = [progress];
  if (step === 5) body.push(doneStep(wallet, gifts));
  else {
    if (gifts) body.push(gifts);
    body.push([realNameStep, cardStep, faceStep, payPasswordStep][step - 1](ctx, wallet, rerender));
    body.push(h('p', { class: 'center small' }, h('a', { href: '#/', id: 'open-later' }, t('open.later'))));
  }
  view.append(...page(t('open.title'), body, { back: '#/' }));
}

function giftBox(wallet, coupons) {
  if (!wallet.promo_balance && coupons.length === 0) return null;
  return h('section', { class: 'gifts', id: 'gifts' },
    h('h2', { class: 'with-icon' }, icon('redpacket'), t('gifts.title')),
    wallet.promo_balance ? h('p', { class: 'gift' }, t('gifts.redPacket'), ' ', h('strong', { id: 'gift-promo' }, cny(wallet.promo_balance))) : null,
    coupons.length ? h('ul', { class: 'gift-coupons' }, coupons.map((c) => h('li', null, h('strong', null, couponText(c)), ' ',
      h('span', { class: 'muted small' }, t('coupon.until', { date: when(c.valid_until, lang()) }))))) : null);
}

function realNameStep(ctx, wallet, rerender) {
  const errors = errorBox();
  const name = input({ type: 'text', name: 'name', maxlength: 30, autocomplete: 'name' });
  const id = input({ type: 'text', name: 'id_number', maxlength: 18, autocomplete: 'off' });
  const fName = field(t('f.realName'), name);
  const fId = field(t('f.idNumber'), id, t('f.idNumber.hint'));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('open.s1.submit'));
  const form = h('form', { class: 'form', id: 'realname-form', novalidate: true }, h('p', null, t('open.s1.text')), fName, fId, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    const n = name.value.trim(), num = id.value.trim().toUpperCase();
    if (!check([fName, valid.name(n), 'v.name'], [fId, valid.idNumber(num), 'v.idNumber'])) return;
    busy(submit, async () => {
      try {
        await api('POST', '/v1/wallet/real-name', { body: { name: n, id_number: num } });
        realName = n;
        toast(t('open.s1.done'));
        rerender();
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

// bindCardForm is the form that binds a card; cards.js uses it too.
export function bindCardForm(onDone) {
  const errors = errorBox();
  const number = input({ type: 'text', inputmode: 'numeric', name: 'card_number', maxlength: 23, autocomplete: 'cc-number' });
  const holder = input({ type: 'text', name: 'holder_name', maxlength: 30, value: realName, autocomplete: 'cc-name' });
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6, autocomplete: 'one-time-code' });
  const fNumber = field(t('f.cardNumber'), number, t('f.cardNumber.hint'));
  const fHolder = field(t('f.holder'), holder);
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'bind_card', errors)));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('card.bind'));
  const form = h('form', { class: 'form', id: 'card-form', novalidate: true }, fNumber, fHolder, fCode, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    const num = number.value.replace(/\s+/g, '');
    if (!check([fNumber, valid.cardNumber(num), 'v.cardNumber'], [fHolder, valid.name(holder.value.trim()), 'v.name'],
      [fCode, valid.code(code.value), 'v.code'])) return;
    busy(submit, async () => {
      try {
        const card = await api('POST', '/v1/cards', { body: { card_number: num, holder_name: holder.value.trim(), otp: code.value } });
        toast(t('card.bound', { bank: card.bank_name, last4: card.last4 }));
        onDone(card);
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function cardStep(ctx, wallet, rerender) {
  return h('div', null, h('p', null, t('open.s2.text')), h('p', { class: 'sandbox' }, t('sandbox.note')), bindCardForm(rerender));
}

function faceStep(ctx, wallet, rerender) {
  const errors = errorBox();
  const file = input({ type: 'file', accept: 'image/*', capture: 'user', name: 'face' });
  const send = async (b64, btn) => busy(btn, async () => {
    errors.clear();
    try {
      await api('POST', '/v1/wallet/face-verification', { body: { image: b64 } });
      toast(t('open.s3.done'));
      rerender();
    } catch (err) { errors.show(err); }
  });
  const pick = h('button', { class: 'btn primary block', type: 'button', id: 'face-file' }, t('open.s3.submit'));
  pick.addEventListener('click', async () => {
    const f = file.files[0];
    if (!f) { errors.show(t('v.photo')); return; }
    try {
      send(await imageBase64(f), pick);
    } catch {
      errors.show(t('v.photo'));
    }
  });
  const test = ctx.app.dev ? h('button', { class: 'btn ghost block', type: 'button', id: 'face-test' }, t('open.s3.test')) : null;
  test?.addEventListener('click', () => send(testImage(), test));
  return h('div', { class: 'form', id: 'face-form' },
    h('p', null, t('open.s3.text')),
    ctx.app.dev ? h('p', { class: 'devnote' }, t('open.s3.dev')) : null,
    field(t('f.photo'), file), pick, test, errors);
}

// imageBase64 reads an image file as base64, made smaller when it is over the API's
// 48 KiB.
async function imageBase64(f) {
  const raw = await new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = reject;
    r.readAsDataURL(f);
  });
  let b64 = raw.slice(raw.indexOf(',') + 1);
  if (b64.length * 3 / 4 <= 48 * 1024) return b64;
  const bmp = await createImageBitmap(f);
  const scale = Math.min(1, 320 / Math.max(bmp.width, bmp.height));
  const c = document.createElement('canvas');
  c.width = Math.round(bmp.width * scale);
  c.height = Math.round(bmp.height * scale);
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  const url = c.toDataURL('image/jpeg', 0.7);
  b64 = url.slice(url.indexOf(',') + 1);
  return b64;
}

// testImage draws a small face for the development verifier, which takes any image.
function testImage() {
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  g.fillStyle = '#f5d0a9';
  g.beginPath(); g.arc(32, 32, 28, 0, Math.PI * 2); g.fill();
  g.fillStyle = '#333';
  g.beginPath(); g.arc(22, 26, 4, 0, Math.PI * 2); g.arc(42, 26, 4, 0, Math.PI * 2); g.fill();
  g.strokeStyle = '#333'; g.lineWidth = 3;
  g.beginPath(); g.arc(32, 36, 12, 0.2 * Math.PI, 0.8 * Math.PI); g.stroke();
  const url = c.toDataURL('image/png');
  return url.slice(url.indexOf(',') + 1);
}

// payPasswordForm sets (or changes) the payment password: an SMS code, then the
// new password twice on the keypad. settings.js uses it too.
export function payPasswordForm(wallet, onDone) {
  const errors = errorBox();
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6, autocomplete: 'one-time-code' });
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'set_payment_password', errors)));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('pp.enter'));
  const form = h('form', { class: 'form', id: 'paypw-form', novalidate: true }, h('p', null, t('pp.text')), fCode, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fCode, valid.code(code.value), 'v.code'])) return;
    const first = await keypad({ title: t('pp.new') });
    if (!first) return;
    if (/^(\d)\1{5}$/.test(first) || '0123456789'.includes(first) || '9876543210'.includes(first)) {
      errors.show(t('v.ppWeak'));
      return;
    }
    const again = await keypad({ title: t('pp.again') });
    if (!again) return;
    if (again !== first) { errors.show(t('v.ppMismatch')); return; }
    busy(submit, async () => {
      try {
        await api('PUT', '/v1/wallet/payment-password', { body: { password: first, otp: code.value } });
        paySet.set(wallet.id);
        toast(t('pp.done'));
        onDone();
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function payPasswordStep(ctx, wallet, rerender) {
  return h('div', null,
    payPasswordForm(wallet, rerender),
    h('p', { class: 'center small' }, h('button', { type: 'button', class: 'link', id: 'pp-already', onclick: () => { paySet.set(wallet.id); rerender(); } }, t('pp.already'))));
}

function doneStep(wallet, gifts) {
  return h('section', { class: 'done', id: 'open-done' },
    icon('ok', 'big ok'), h('h2', null, t('open.done')),
    h('p', null, t('open.doneText', { tier: wallet.tier })),
    gifts,
    h('a', { class: 'btn primary block', href: '#/' }, t('open.home')));
}
