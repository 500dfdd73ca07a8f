// Customer service: the customer's tickets, a new ticket (from help, or about one
// failed or pending transaction), and one ticket's thread, which updates by itself
// when customer service replies (the reply arrives as a live notification).

import { h, fill, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api } from '../api.js';
import { cny } from '../money.js';
import { kindName, statusName } from '../labels.js';
import { page, field, input, errorBox, check, busy, toast } from '../ui.js';

const categories = ['payment_failed', 'delayed', 'card', 'account', 'other'];

// The API's rules for a ticket's words (hebao.TicketService): trimmed, a subject of
// 1 to 100 characters on one line, a message of 1 to 2000 with line breaks allowed,
// and no other control characters or characters that reorder text.
const forbidden = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const chars = (s) => [...s.trim()].length;
const subjectOK = (s) => chars(s) >= 1 && chars(s) <= 100 && !/[\r\n]/.test(s) && !forbidden.test(s);
const messageOK = (s) => chars(s) >= 1 && chars(s) <= 2000 && !forbidden.test(s);

function statusPill(status) {
  return h('span', { class: 'pill ticket-' + status, dataset: { status } }, t('ticket.status.' + status));
}

// hashQuery reads the ?a=b part of the hash route (#/tickets/new?tx=mov_…).
function hashQuery() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

export async function list({ view }) {
  const errors = errorBox();
  const ul = h('ul', { class: 'txs', id: 'tickets' });
  const more = h('button', { class: 'btn ghost block', type: 'button', hidden: true }, t('history.more'));
  let cursor = null;
  async function load() {
    try {
      const p = await api('GET', '/v1/tickets?limit=20' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      ul.append(...p.items.map((tk) => h('li', { class: 'tx', dataset: { ticket: tk.id, status: tk.status } },
        h('a', { href: '#/tickets/' + tk.id },
          h('div', { class: 'tx-main' },
            h('span', { class: 'tx-kind' }, tk.subject),
            h('span', { class: 'tx-who muted' }, t('ticket.cat.' + tk.category)),
            h('span', { class: 'tx-time muted small' }, when(tk.updated_at, lang()))),
          h('div', { class: 'tx-side' }, statusPill(tk.status))))));
      cursor = p.next_cursor;
      more.hidden = !cursor;
      if (!ul.children.length) ul.append(h('li', { class: 'muted empty' }, t('ticket.none')));
    } catch (err) { errors.show(err); }
  }
  more.addEventListener('click', load);
  view.append(...page(t('ticket.mine'), [
    h('a', { class: 'btn primary block', href: '#/tickets/new', id: 'ticket-new' }, t('ticket.new')),
    errors, ul, more,
  ], { back: '#/help' }));
  await load();
}

export async function create({ view, app }) {
  const q = hashQuery();
  const txID = /^mov_[0-9a-z]{26}$/.test(q.get('tx') || '') ? q.get('tx') : '';
  let tx = null;
  if (txID) tx = await api('GET', '/v1/transactions/' + encodeURIComponent(txID));
  const errors = errorBox();
  const category = h('select', { name: 'category', id: 'ticket-category' },
    categories.map((c) => h('option', { value: c }, t('ticket.cat.' + c))));
  const wanted = q.get('category') || (tx ? (tx.status === 'failed' ? 'payment_failed' : 'delayed') : '');
  if (categories.includes(wanted)) category.value = wanted;
  const subject = input({ type: 'text', name: 'subject', id: 'ticket-subject-input', maxlength: 100 });
  if (tx) subject.value = t('ticket.aboutTx', { kind: kindName(tx.kind), amount: cny(tx.amount) });
  const message = h('textarea', { name: 'message', id: 'ticket-message', rows: 6, maxlength: 2000 });
  const fSubject = field(t('ticket.subject'), subject);
  const fMessage = field(t('ticket.message'), message, t('ticket.messageHint'));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('ticket.send'));
  const about = tx ? h('section', { class: 'panel', id: 'ticket-about', dataset: { tx: tx.id } },
    h('p', null, t('ticket.about'), ' ', h('a', { href: '#/tx/' + tx.id }, kindName(tx.kind), ' ', cny(tx.amount)), ' · ', statusName(tx.status)),
    tx.failure ? h('p', { class: 'muted' }, tx.failure.explanation) : null) : null;
  const form = h('form', { class: 'form', id: 'ticket-form', novalidate: true },
    about, field(t('ticket.category'), category), fSubject, fMessage, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fSubject, subjectOK(subject.value), 'v.ticketSubject'], [fMessage, messageOK(message.value), 'v.ticketMessage'])) return;
    const body = { category: category.value, subject: subject.value.trim(), message: message.value.trim() };
    if (tx) body.transaction_id = tx.id;
    busy(submit, async () => {
      try {
        const tk = await api('POST', '/v1/tickets', { body });
        toast(t('ticket.sent'));
        app.go('tickets/' + tk.id);
      } catch (err) { errors.show(err); }
    });
  });
  view.append(...page(t('ticket.new'), [h('p', { class: 'muted' }, t('ticket.lead')), form], { back: tx ? '#/tx/' + tx.id : '#/help' }));
  subject.value ? message.focus() : subject.focus();
}

export async function thread({ view, params, app }) {
  const id = params.id;
  const head = h('section', { class: 'panel', id: 'ticket-head' });
  const msgs = h('ol', { class: 'thread', id: 'thread', 'aria-live': 'polite' });
  const errors = errorBox();
  const message = h('textarea', { name: 'message', id: 'reply-message', rows: 3, maxlength: 2000 });
  const fMessage = field(t('ticket.reply'), message);
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('ticket.send'));
  const form = h('form', { class: 'form', id: 'reply-form', novalidate: true }, fMessage, errors, submit);

  async function load() {
    const tk = await api('GET', '/v1/tickets/' + encodeURIComponent(id));
    fill(head,
      h('h2', { id: 'ticket-title' }, tk.subject),
      h('p', null, statusPill(tk.status), ' ', h('span', { class: 'muted' }, t('ticket.cat.' + tk.category))),
      tk.transaction_id ? h('p', null, h('a', { href: '#/tx/' + tk.transaction_id, id: 'ticket-tx' }, t('ticket.viewTx'))) : null,
      tk.status === 'resolved' ? h('p', { class: 'muted small' }, t('ticket.resolvedHint')) : null);
    fill(msgs, ...tk.messages.map((m) => h('li', { class: 'msg ' + m.author, dataset: { seq: String(m.seq) } },
      h('span', { class: 'msg-who small muted' }, t('ticket.author.' + m.author), ' · ', when(m.created_at, lang())),
      h('p', { class: 'msg-body' }, m.body))));
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fMessage, messageOK(message.value), 'v.ticketMessage'])) return;
    busy(submit, async () => {
      try {
        await api('POST', '/v1/tickets/' + encodeURIComponent(id) + '/messages', { body: { message: message.value.trim() } });
        message.value = '';
        await load();
      } catch (err) { errors.show(err); }
    });
  });
  // Customer service's reply arrives as a live notification naming this ticket.
  app.onNotification((n) => {
    if (n.kind === 'ticket.answered' && n.transaction_id === id) load().catch((err) => errors.show(err));
  });
  await load();
  view.append(...page(t('ticket.title'), [head, msgs, form], { back: '#/tickets' }));
}
