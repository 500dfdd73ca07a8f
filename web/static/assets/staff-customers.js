// Customer look-up for agents: the customer, the wallet's status and tier, masked
// cards, and the audited actions on the wallet (freeze with a reason, unfreeze
// after an identity check; admins also set the tier).

import { h, fill, field, when } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query, session } from './staff-api.js';
import { form, submit, section, kv, badge, lacks, problem, notice, loading, table } from './staff-ui.js';

export function statusBadge(status) {
  const kind = { active: 'ok', frozen: 'bad', closed: 'muted' }[status] || 'muted';
  const b = badge(kind, t('status.' + status));
  b.dataset.status = status;
  return b;
}

export function tierName(n) {
  return t('cust.tierN', { n });
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
      ]))),
    h('div', { id: 'wallet-actions' }, message ? notice(message) : null, walletActions(el, c)),
    section(t('cust.balances'), lacks(t('cust.balancesLack'))),
    section(t('cust.cards'), cards.length === 0
      ? h('p', { class: 'muted' }, t('cust.noCards'))
      : table([t('cust.bank'), t('cust.cardNumber'), t('cust.boundAt')], cards.map((card) =>
        h('tr', null, h('td', null, card.bank_name), h('td', null, h('code', null, card.masked_number)), h('td', null, when(card.bound_at, l)))),
      { id: 'cards' })),
    section(t('cust.history'), lacks(t('cust.historyLack'))),
    section(t('reset.title'), lacks(t('reset.lack'))),
  );
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
  if (session.isAdmin) {
    out.push(section(t('tier.title'), tierForm(w.id, (res) => after(t('tier.done', {
      id: res.wallet_id, tier: tierName(res.tier), status: t('status.' + res.status) }))(res))));
  }
  return out;
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
