// Customer look-up for agents: the customer (phone masked), the wallet's status,
// tier, balances and payment password, masked cards, the history in pages, and the
// audited actions on the wallet (freeze with a reason, unfreeze after an identity
// check, start a payment-password reset after one; admins also set the tier). The
// API audits every look, and every page of history.

import { h, fill, field, when, yuan } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query, session } from './staff-api.js';
import { form, submit, section, kv, badge, problem, notice, loading, table } from './staff-ui.js';

export function statusBadge(status) {
  const kind = { active: 'ok', frozen: 'bad', closed: 'muted' }[status] || 'muted';
  const b = badge(kind, t('status.' + status));
  b.dataset.status = status;
  return b;
}

export function tierName(n) {
  return t('cust.tierN', { n });
}

// ppBadge shows the state of a wallet's payment password.
function ppBadge(status) {
  const kind = { set: 'ok', not_set: 'muted', locked: 'warn', reset_required: 'bad' }[status] || 'muted';
  const b = badge(kind, t('pp.' + status));
  b.dataset.status = status;
  return b;
}

// kindName is a transaction kind in words, or the API's own word for a new kind.
function kindName(kind) {
  const s = t('kind.' + kind);
  return s === 'kind.' + kind ? kind : s;
}

// credit says whether a transaction kind adds to the balance.
function credit(kind) {
  return ['topup', 'transfer_in', 'refund', 'interest', 'points_cash'].includes(kind);
}

export async function customersPage(root, match) {
  const phone = h('input', { id: 'cust-phone', name: 'phone', type: 'tel', inputmode: 'numeric', autocomplete: 'off', maxlength: 11, required: true });
  const result = h('div', { id: 'customer' });
  const search = form({ id: 'cust-search', class: 'card inline-form' }, [
    field(t('cust.phone'), phone, t('cust.phoneHint')),
    submit(t('cust.search')),
  ], async () => {
    fill(result);
    const c = await api('GET', '/v1/agent/customers' + query({ phone: phone.value.trim() }));
    showCustomer(result, c);
  });
  fill(root, h('h2', null, t('cust.title')), search, result);
  if (match && match[1]) {
    fill(result, loading());
    try {
      showCustomer(result, await api('GET', '/v1/agent/customers/' + match[1]));
    } catch (err) {
      fill(result, problem(err));
    }
  } else {
    phone.focus();
  }
}

// showCustomer fills el with customer c as GET /v1/agent/customers answers it;
// message, if given, is shown above the wallet's actions (the outcome of the last
// one).
function showCustomer(el, c, message) {
  const l = lang();
  const w = c.wallet;
  const cards = c.cards || [];
  fill(el,
    h('div', { class: 'grid two' },
      section(t('cust.customer'), kv([
        [t('cust.id'), h('code', null, c.id)],
        [t('cust.phone'), c.phone],
        [t('cust.since'), when(c.created_at, l)],
      ])),
      section(t('cust.wallet'), kv([
        [t('cust.walletId'), h('code', { id: 'wallet-id' }, w.id)],
        [t('cust.status'), h('span', { id: 'wallet-status' }, statusBadge(w.status))],
        [t('cust.tier'), h('span', { id: 'wallet-tier' }, tierName(w.tier))],
        [t('cust.balance'), h('strong', { id: 'wallet-balance' }, yuan(w.balance))],
        [t('cust.promoBalance'), h('span', { id: 'wallet-promo' }, yuan(w.promo_balance))],
        [t('cust.points'), h('span', { id: 'wallet-points' }, Number(w.points).toLocaleString())],
        [t('cust.payPassword'), h('span', { id: 'paypw-status' }, ppBadge(w.payment_password))],
      ]))),
    h('div', { id: 'wallet-actions' }, message ? notice(message) : null, walletActions(el, c)),
    section(t('cust.cards'), cards.length === 0
      ? h('p', { class: 'muted' }, t('cust.noCards'))
      : table([t('cust.bank'), t('cust.cardNumber'), t('cust.boundAt')], cards.map((card) =>
        h('tr', null, h('td', null, card.bank_name), h('td', null, h('code', null, card.masked_number)), h('td', null, when(card.bound_at, l)))),
      { id: 'cards' })),
    // Kept across the redraws after an action: each page read is an audited look.
    section(t('cust.history'), h('p', { class: 'muted small' }, t('hist.audited')), c.history || (c.history = historyPanel(w.id))),
  );
}

// historyPanel pages through a wallet's history, newest first, forwards and back,
// as GET /v1/agent/wallets/{id}/transactions gives it.
function historyPanel(walletID) {
  const cursors = ['']; // the cursor of each page shown so far; the last is this page's
  const out = h('div', { id: 'history', 'aria-live': 'polite' });
  const load = async () => {
    fill(out, loading());
    let page;
    try {
      page = await api('GET', `/v1/agent/wallets/${walletID}/transactions` + query({ limit: 10, cursor: cursors[cursors.length - 1] }));
    } catch (err) {
      fill(out, problem(err));
      return;
    }
    const l = lang();
    const prev = h('button', { type: 'button', class: 'secondary', id: 'history-prev', disabled: cursors.length === 1,
      onclick: () => { cursors.pop(); load(); } }, t('prev'));
    const next = h('button', { type: 'button', class: 'secondary', id: 'history-next', disabled: !page.next_cursor,
      onclick: () => { cursors.push(page.next_cursor); load(); } }, t('next'));
    fill(out,
      page.items.length === 0 ? h('p', { class: 'muted' }, t('hist.empty'))
        : table([t('hist.time'), t('hist.kind'), t('hist.amount'), t('hist.status'), t('hist.with'), t('hist.id')],
          page.items.map((x) => h('tr', { 'data-id': x.id, 'data-kind': x.kind, 'data-status': x.status },
            h('td', { class: 'nowrap' }, when(x.created_at, l, true)),
            h('td', null, kindName(x.kind)),
            h('td', { class: 'num nowrap' }, (credit(x.kind) ? '+' : '−') + yuan(x.amount)),
            h('td', null, t('tx.' + x.status), x.failure ? h('div', { class: 'muted small' }, x.failure.explanation) : null),
            h('td', null, x.counterparty ? x.counterparty.name : x.card ? [x.card.bank, ' ', h('code', null, x.card.masked_number)] : '—',
              x.memo ? h('div', { class: 'muted small' }, x.memo) : null),
            h('td', null, h('code', { class: 'small' }, x.id)))), { id: 'history-table' }),
      h('div', { class: 'pager' }, prev, h('span', { class: 'muted' }, t('audit.page', { n: cursors.length })), next));
  };
  load();
  return out;
}

function walletActions(el, c) {
  const w = c.wallet;
  const after = (msg) => (out) => {
    c.wallet = Object.assign({}, w, { status: out.status, tier: out.tier });
    showCustomer(el, c, msg);
  };
  const out = [];
  if (w.status === 'active') {
    const reason = h('textarea', { id: 'freeze-reason', name: 'reason', rows: 2, maxlength: 500, required: true });
    out.push(section(t('freeze.title'), form({ id: 'freeze-form' }, [
      h('p', { class: 'muted' }, t('freeze.lead')),
      field(t('freeze.reason'), reason, t('freeze.reasonHint')),
      submit(t('freeze.submit'), 'danger'),
    ], async () => {
      after(t('freeze.done'))(await api('POST', `/v1/agent/wallets/${w.id}/freeze`, { reason: reason.value }));
    })));
  } else if (w.status === 'frozen') {
    const check = h('textarea', { id: 'unfreeze-check', name: 'identity_check', rows: 3, maxlength: 500, required: true });
    out.push(section(t('unfreeze.title'), form({ id: 'unfreeze-form' }, [
      field(t('unfreeze.check'), check, t('unfreeze.checkHint')),
      submit(t('unfreeze.submit')),
    ], async () => {
      after(t('unfreeze.done'))(await api('POST', `/v1/agent/wallets/${w.id}/unfreeze`, { identity_check: check.value }));
    })));
  } else {
    out.push(section(null, h('p', { class: 'muted' }, t('wallet.closedNote'))));
  }
  if (w.status !== 'closed') out.push(resetSection(el, c));
  if (session.isAdmin) {
    out.push(section(t('tier.title'), tierForm(w.id, (res) => after(t('tier.done', {
      id: res.wallet_id, tier: tierName(res.tier), status: t('status.' + res.status) }))(res))));
  }
  return out;
}

// resetSection starts a payment-password reset after an identity check: the
// password is locked until the customer sets a new one in the app with an SMS code
// and the ID number. The agent never sees or chooses it.
function resetSection(el, c) {
  const w = c.wallet;
  if (w.payment_password === 'reset_required') {
    return section(t('reset.title'), h('p', { id: 'reset-pending' }, t('reset.pending')));
  }
  const check = h('textarea', { id: 'reset-check', name: 'identity_check', rows: 3, maxlength: 500, required: true });
  return section(t('reset.title'), form({ id: 'reset-form' }, [
    h('p', { class: 'muted' }, t('reset.lead')),
    field(t('reset.check'), check, t('unfreeze.checkHint')),
    submit(t('reset.submit'), 'danger'),
  ], async () => {
    const out = await api('POST', `/v1/agent/wallets/${w.id}/payment-password/reset`, { identity_check: check.value });
    c.wallet = Object.assign({}, w, { payment_password: out.status });
    showCustomer(el, c, t('reset.done', { time: when(out.started_at, lang(), true) }));
  }));
}

// tierForm sets a wallet's tier (admins); walletID, if given, is filled in and
// fixed. done gets the API's answer {wallet_id, status, tier}; without done the
// outcome is shown in the form.
export function tierForm(walletID, done) {
  const wallet = h('input', { id: 'tier-wallet', name: 'wallet_id', value: walletID || '', readonly: Boolean(walletID), required: true,
    autocomplete: 'off', spellcheck: 'false' });
  const tier = h('select', { id: 'tier-tier', name: 'tier' }, [1, 2, 3, 4].map((n) => h('option', { value: n }, tierName(n))));
  return form({ id: 'tier-form', class: 'inline-form' }, [
    h('p', { class: 'muted wide' }, t('tier.lead')),
    field(t('tier.walletId'), wallet, walletID ? null : t('tier.walletHint')),
    field(t('tier.tier'), tier),
    submit(t('tier.submit')),
  ], async () => {
    const id = wallet.value.trim();
    // An id that is not one would be a different route: let the API say what is wrong.
    const safe = /^[A-Za-z0-9_]+$/.test(id) ? id : encodeURIComponent(id || '-');
    const res = await api('POST', `/v1/admin/wallets/${safe}/tier`, { tier: Number(tier.value) });
    if (done) return done(res);
    return t('tier.done', { id: res.wallet_id, tier: tierName(res.tier), status: t('status.' + res.status) });
  });
}
