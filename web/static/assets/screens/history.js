// History: every movement of the customer's money, each failed or pending one with
// the API's plain-words explanation and next step; one transaction in full; the
// inbox of notifications, live.

import { h, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api } from '../api.js';
import { cny } from '../money.js';
import { kindName, statusName, direction, notificationTitle } from '../labels.js';
import { page, errorBox } from '../ui.js';

function who(tx) {
  if (tx.counterparty) return tx.counterparty.name;
  if (tx.card) return `${tx.card.bank} ${tx.card.masked_number}`;
  return '';
}

// txRow is one line of the history.
export function txRow(tx) {
  const sign = direction(tx.kind) > 0 ? '+' : '−';
  return h('li', { class: 'tx ' + tx.status, dataset: { id: tx.id, kind: tx.kind, status: tx.status } },
    h('a', { href: '#/tx/' + tx.id },
      h('div', { class: 'tx-main' },
        h('span', { class: 'tx-kind' }, kindName(tx.kind)),
        h('span', { class: 'tx-who' }, who(tx) || tx.memo || ''),
        h('span', { class: 'tx-time muted small' }, when(tx.created_at, lang()))),
      h('div', { class: 'tx-side' },
        h('strong', { class: 'tx-amount ' + (sign === '+' ? 'plus' : 'minus') }, sign + cny(tx.amount)),
        tx.status !== 'succeeded' ? h('span', { class: 'pill ' + tx.status }, statusName(tx.status)) : null)),
    tx.failure ? h('div', { class: 'tx-failure' },
      h('p', null, tx.failure.explanation),
      h('p', { class: 'muted' }, '→ ', tx.failure.next_step)) : null);
}

export async function list({ view, app }) {
  const errors = errorBox();
  const ul = h('ul', { class: 'txs', id: 'history' });
  const more = h('button', { class: 'btn ghost block', type: 'button', hidden: true }, t('history.more'));
  let cursor = null;
  async function load() {
    try {
      const page = await api('GET', '/v1/transactions?limit=20' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      ul.append(...page.items.map(txRow));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!ul.children.length) ul.append(h('li', { class: 'muted' }, t('history.empty')));
    } catch (err) { errors.show(err); }
  }
  more.addEventListener('click', load);
  app.onNotification(() => { ul.replaceChildren(); cursor = null; load(); });
  view.append(...page(t('history.title'), [errors, ul, more], { back: '#/' }));
  await load();
}

export async function detail({ view, params }) {
  const tx = await api('GET', '/v1/transactions/' + encodeURIComponent(params.id));
  const sign = direction(tx.kind) > 0 ? '+' : '−';
  const rows = [
    [t('tx.kind'), kindName(tx.kind)],
    [t('tx.status'), statusName(tx.status)],
    tx.counterparty ? [t('tx.counterparty'), tx.counterparty.name] : null,
    tx.card ? [t('f.card'), `${tx.card.bank} ${tx.card.masked_number}`] : null,
    tx.memo ? [t('tx.memo'), tx.memo] : null,
    [t('tx.created'), when(tx.created_at, lang())],
    [t('tx.updated'), when(tx.updated_at, lang())],
    [t('tx.id'), tx.id],
  ].filter(Boolean);
  view.append(...page(t('tx.title'), [
    h('section', { class: 'done', id: 'tx-detail', dataset: { status: tx.status } },
      h('p', { class: 'amount ' + (sign === '+' ? 'plus' : 'minus') }, sign + cny(tx.amount)),
      h('dl', { class: 'limits' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
    tx.failure ? h('section', { class: tx.status === 'failed' ? 'error' : 'panel', id: 'tx-failure' },
      h('h2', null, tx.status === 'failed' ? t('tx.whyFailed') : t('tx.whyPending')),
      h('p', { class: 'error-main' }, tx.failure.explanation),
      h('p', { class: 'error-hint' }, t('tx.next'), ' ', tx.failure.next_step),
      h('p', { class: 'muted small' }, t('tx.code'), ' ', h('code', null, tx.failure.code))) : null,
    h('p', { class: 'center' }, h('a', { href: '#/tickets/new?tx=' + encodeURIComponent(tx.id), id: 'tx-ticket' }, t('ticket.askAbout'))),
  ], { back: '#/history' }));
}

// noteLink is where a notification leads: its transaction, its ticket, or the
// payment-password reset.
function noteLink(n) {
  if (n.kind === 'payment_password.reset_required') return '#/settings';
  const id = n.transaction_id || '';
  if (id.startsWith('mov_')) return '#/tx/' + id;
  if (id.startsWith('tkt_')) return '#/tickets/' + id;
  return '#/inbox';
}

// noteDetail is a notification's second line: points, or money and the balance
// after; notifications that move no money (a ticket's reply, a payment-password
// reset) have none.
function noteDetail(n) {
  if (n.kind.startsWith('points')) return h('span', null, ' ', t('points.n', { n: n.amount }));
  if (n.kind.startsWith('ticket') || n.kind.startsWith('payment_password') || !n.amount) return null;
  return h('span', { class: 'muted' }, ' ', cny(n.amount), ' · ', t('inbox.balanceAfter', { amount: cny(n.balance_after) }));
}

export async function inbox({ view, app }) {
  const ul = h('ul', { class: 'inbox', id: 'inbox' });
  const row = (n) => h('li', { class: 'note', dataset: { kind: n.kind, id: n.id } },
    h('a', { href: noteLink(n) },
      h('strong', null, notificationTitle(n)),
      noteDetail(n),
      h('span', { class: 'muted small block' }, when(n.created_at, lang()))));
  const page1 = await api('GET', '/v1/notifications?limit=50');
  ul.append(...page1.items.map(row));
  if (!page1.items.length) ul.append(h('li', { class: 'muted empty' }, t('inbox.empty')));
  app.unread = 0;
  app.refreshChrome();
  app.onNotification((n) => {
    ul.querySelector('.empty')?.remove();
    ul.prepend(row(n));
    app.unread = 0;
  });
  view.append(...page(t('inbox.title'), ul, { back: '#/' }));
}
