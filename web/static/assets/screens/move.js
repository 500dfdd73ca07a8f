// Moving money: transfer to another wallet, top up from a card, withdraw to a card.
// Amounts are typed in yuan and sent as integer fen; every request carries an
// Idempotency-Key that a retry of the same submission reuses.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, Idem, valid, session } from '../api.js';
import { cny, parseYuan } from '../money.js';
import { page, field, input, errorBox, codeButton, check, busy, keypad, sleep, toast } from '../ui.js';
import { icon } from '../icons.js';

function amountInput() {
  return input({ type: 'text', inputmode: 'decimal', name: 'amount', placeholder: '0.00', maxlength: 15 });
}

// amountRule checks a typed amount like the server's ParseYuan.
function amountRule(wrap, el) {
  const r = parseYuan(el.value);
  return [wrap, !r.error, r.error || ''];
}

function cardSelect(cards) {
  return h('select', { name: 'card_id', id: 'card-select' }, cards.map((c) => h('option', { value: c.id }, `${c.bank_name} ${c.masked_number}`)));
}

function noCards(view, title) {
  view.append(...page(title, [h('p', null, t('cards.none')), h('a', { class: 'btn primary block', href: '#/cards' }, t('card.add'))], { back: '#/' }));
}

export async function transfer({ view }) {
  const wallet = await api('GET', '/v1/wallet');
  const errors = errorBox();
  const idem = new Idem();
  const to = input({ type: 'text', name: 'to', placeholder: t('transfer.toHint'), maxlength: 30 });
  const amount = amountInput();
  const memo = input({ type: 'text', name: 'memo', maxlength: 50 });
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const fTo = field(t('transfer.to'), to);
  const fAmount = field(t('f.amount'), amount, t('transfer.available', { amount: cny(wallet.balance) }));
  const fMemo = field(t('f.memo'), memo);
  const fCode = field(t('f.stepUpCode'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'step_up', errors)), t('pay.stepUp'));
  fCode.hidden = true;
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('transfer.submit'));
  const form = h('form', { class: 'form', id: 'transfer-form', novalidate: true }, fTo, fAmount, fMemo, fCode, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    const dest = to.value.trim();
    if (!check([fTo, valid.phone(dest) || valid.walletId(dest), 'v.payee'], amountRule(fAmount, amount),
      [fMemo, [...memo.value].length <= 50, 'v.memo'])) return;
    if (!fCode.hidden && !check([fCode, valid.code(code.value), 'v.code'])) return;
    const fen = parseYuan(amount.value).fen;
    const body = valid.phone(dest) ? { to_phone: dest } : { to_wallet_id: dest };
    body.amount = fen;
    if (memo.value) body.memo = memo.value;
    if (!fCode.hidden) body.otp = code.value;
    const pw = await keypad({ detail: t('transfer.keypad', { amount: cny(fen), to: dest }) });
    if (!pw) return;
    body.payment_password = pw;
    busy(submit, async () => {
      try {
        const tx = await api('POST', '/v1/transfers', { body, idem: idem.for(body) });
        idem.done();
        view.replaceChildren(...page(t('transfer.title'), result(tx, t('transfer.done')), { back: '#/' }));
      } catch (err) {
        if (err.code === 'step_up_required') fCode.hidden = false;
        errors.show(err);
      }
    });
  });
  view.append(...page(t('transfer.title'), form, { back: '#/' }));
}

// result shows a finished (or still pending) transaction.
function result(tx, title) {
  const box = h('section', { class: 'done', id: 'move-done', dataset: { status: tx.status } },
    h('h2', { id: 'move-result' }, tx.status === 'succeeded' ? [icon('ok', 'big ok'), title] : tx.status === 'failed' ? t('status.failed') : t('status.pending')),
    h('p', { class: 'amount' }, cny(tx.amount)),
    tx.failure ? h('div', { class: tx.status === 'failed' ? 'error' : 'panel' },
      h('p', { class: 'error-main' }, tx.failure.explanation), h('p', { class: 'error-hint' }, tx.failure.next_step)) : null,
    h('a', { class: 'btn ghost block', href: '#/tx/' + tx.id }, t('pay.seeTx')),
    h('a', { class: 'btn primary block', href: '#/' }, t('open.home')));
  return box;
}

// follow polls a top-up or withdrawal until the bank has answered (2 minutes at
// most), showing each state.
async function follow(view, title, path, tx, done) {
  view.replaceChildren(...page(title, result(tx, done), { back: '#/' }));
  for (let i = 0; i < 120 && tx.status === 'pending'; i++) {
    await sleep(1000);
    if (!view.isConnected || !document.getElementById('move-done')) return;
    tx = await api('GET', path + tx.id);
  }
  if (document.getElementById('move-done')) view.replaceChildren(...page(title, result(tx, done), { back: '#/' }));
  if (tx.status === 'succeeded') toast(done, 'ok');
}

export async function topup({ view }) {
  const [wallet, cards] = await Promise.all([api('GET', '/v1/wallet'), api('GET', '/v1/cards')]);
  if (!cards.cards.length) return noCards(view, t('topup.title'));
  const errors = errorBox();
  const idem = new Idem();
  const card = cardSelect(cards.cards);
  const amount = amountInput();
  const fAmount = field(t('f.amount'), amount, wallet.limits.balance_cap === null ? null : t('topup.cap', { amount: cny(wallet.limits.balance_cap) }));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('topup.submit'));
  const form = h('form', { class: 'form', id: 'topup-form', novalidate: true },
    field(t('f.card'), card), fAmount, h('p', { class: 'sandbox' }, t('sandbox.note')), errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check(amountRule(fAmount, amount))) return;
    const body = { card_id: card.value, amount: parseYuan(amount.value).fen };
    busy(submit, async () => {
      try {
        const tx = await api('POST', '/v1/topups', { body, idem: idem.for(body) });
        idem.done();
        await follow(view, t('topup.title'), '/v1/topups/', tx, t('topup.done'));
      } catch (err) { errors.show(err); }
    });
  });
  view.append(...page(t('topup.title'), form, { back: '#/' }));
}

export async function withdraw({ view }) {
  const [wallet, cards] = await Promise.all([api('GET', '/v1/wallet'), api('GET', '/v1/cards')]);
  if (!cards.cards.length) return noCards(view, t('withdraw.title'));
  const errors = errorBox();
  const idem = new Idem();
  const card = cardSelect(cards.cards);
  const amount = amountInput();
  const fAmount = field(t('f.amount'), amount, t('withdraw.available', { amount: cny(wallet.balance) }));
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const fCode = field(t('f.stepUpCode'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'step_up', errors)), t('pay.stepUp'));
  fCode.hidden = true;
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('withdraw.submit'));
  const form = h('form', { class: 'form', id: 'withdraw-form', novalidate: true }, field(t('f.card'), card), fAmount,
    h('p', { class: 'muted small' }, t('withdraw.promo')), fCode, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    if (!check(amountRule(fAmount, amount))) return;
    if (!fCode.hidden && !check([fCode, valid.code(code.value), 'v.code'])) return;
    const fen = parseYuan(amount.value).fen;
    const pw = await keypad({ detail: t('withdraw.keypad', { amount: cny(fen) }) });
    if (!pw) return;
    const body = { card_id: card.value, amount: fen, payment_password: pw };
    if (!fCode.hidden) body.otp = code.value;
    busy(submit, async () => {
      try {
        const tx = await api('POST', '/v1/withdrawals', { body, idem: idem.for(body) });
        idem.done();
        await follow(view, t('withdraw.title'), '/v1/withdrawals/', tx, t('withdraw.done'));
      } catch (err) {
        if (err.code === 'step_up_required') fCode.hidden = false;
        errors.show(err);
      }
    });
  });
  view.append(...page(t('withdraw.title'), form, { back: '#/' }));
}
