// The agents' ticket queue: tickets by status, oldest first, and a ticket's thread
// with reply, assign-to-me and resolve. The thread is read again every few seconds
// while it is open, so a customer's new message shows without a reload.

import { h, fill, field, when } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query, session } from './staff-api.js';
import { form, submit, section, kv, badge, problem, notice, loading, table } from './staff-ui.js';

const STATUS = 'hebao.staff.ticketStatus';
const statuses = ['open', 'answered', 'resolved'];
const POLL_MS = 5000;

function statusBadge(s) {
  const b = badge({ open: 'warn', answered: 'ok', resolved: 'muted' }[s] || 'muted', t('tickets.' + s));
  b.dataset.status = s;
  return b;
}

function assignee(id) {
  if (!id) return h('span', { class: 'muted' }, t('tickets.unassigned'));
  return id === session.id ? t('tickets.me') : h('code', null, id);
}

// unavailable says so when the server has no ticket routes yet (404 from the
// router, 503 when not configured) and shows any other error as it is.
function failure(err) {
  if (err && (err.status === 503 || (err.status === 404 && err.code === 'not_found' && /no route/.test(err.detail)))) {
    return h('div', null, problem(err), h('p', { class: 'muted' }, t('tickets.lack')));
  }
  return problem(err);
}

export async function ticketsPage(root) {
  let status = sessionStorage.getItem(STATUS);
  if (!statuses.includes(status)) status = 'open';
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const list = h('div', { id: 'ticket-list' });
  fill(root, h('h2', null, t('tickets.title')), tabs, list);

  const load = async () => {
    fill(tabs, statuses.map((s) => h('button', { type: 'button', role: 'tab', id: 'tab-' + s, 'aria-selected': String(s === status),
      class: s === status ? 'tab current' : 'tab', onclick: () => { status = s; sessionStorage.setItem(STATUS, s); load(); } }, t('tickets.' + s))));
    fill(list, loading());
    const rows = h('tbody');
    const more = h('div', { class: 'more' });
    const page = async (cursor) => {
      const out = await api('GET', '/v1/agent/tickets' + query({ status, limit: 20, cursor }));
      for (const tk of out.items) rows.appendChild(ticketRow(tk));
      fill(more, out.next_cursor ? h('button', { type: 'button', class: 'secondary', onclick: (ev) => {
        ev.target.disabled = true;
        page(out.next_cursor).catch((err) => fill(more, problem(err)));
      } }, t('more')) : null);
      return out.items.length;
    };
    try {
      const n = await page('');
      const head = h('thead', null, h('tr', null, [t('tickets.subject'), t('tickets.category'), t('tickets.status'), t('tickets.assignee'),
        t('tickets.messages'), t('tickets.updated')].map((x) => h('th', { scope: 'col' }, x))));
      fill(list, n === 0 ? h('p', { class: 'muted', id: 'tickets-empty' }, t('tickets.empty'))
        : h('div', { class: 'table-wrap' }, h('table', { id: 'tickets' }, head, rows)), more);
    } catch (err) {
      fill(list, failure(err));
    }
  };
  await load();
}

function ticketRow(tk) {
  return h('tr', { 'data-ticket': tk.id },
    h('td', null, h('a', { href: '#/tickets/' + tk.id }, tk.subject)),
    h('td', null, t('cat.' + tk.category)),
    h('td', null, statusBadge(tk.status)),
    h('td', null, assignee(tk.assigned_to)),
    h('td', { class: 'num' }, tk.message_count),
    h('td', null, when(tk.updated_at, lang())));
}

export async function ticketPage(root, match, ctx) {
  const id = match[1];
  const head = h('div', { id: 'ticket-head' }, loading());
  const thread = h('ol', { id: 'thread', class: 'thread' });
  const message = h('textarea', { id: 'reply-message', name: 'message', rows: 4, maxlength: 2000, required: true });
  let current = null;

  const show = (tk, msg) => {
    current = tk;
    const l = lang();
    const assign = h('button', { type: 'button', id: 'ticket-assign', class: 'secondary',
      disabled: tk.assigned_to && tk.assigned_to === session.id }, t('tickets.assign'));
    const resolve = h('button', { type: 'button', id: 'ticket-resolve', class: 'secondary', disabled: tk.status === 'resolved' }, t('tickets.resolve'));
    const actionStatus = h('div', { class: 'status', 'aria-live': 'polite' }, msg ? notice(msg) : null);
    const act = (button, path, done) => button.addEventListener('click', async () => {
      button.disabled = true;
      fill(actionStatus);
      try {
        const out = await api('POST', `/v1/agent/tickets/${id}/${path}`);
        if (path === 'assign') session.learnId(out.assigned_to);
        show(out, t(done));
      } catch (err) {
        button.disabled = false;
        fill(actionStatus, problem(err));
      }
    });
    act(assign, 'assign', 'tickets.assigned');
    act(resolve, 'resolve', 'tickets.resolvedDone');
    fill(head,
      h('h2', { id: 'ticket-subject' }, tk.subject),
      h('p', { class: 'badges' }, statusBadge(tk.status), ' ', badge('muted', t('cat.' + tk.category))),
      section(null, kv([
        [t('tickets.customer'), h('span', null, tk.customer.phone, ' · ',
          h('a', { href: '#/customers/' + tk.customer.id, id: 'ticket-customer' }, t('tickets.viewCustomer')))],
        tk.transaction_id ? [t('tickets.transaction'), h('code', null, tk.transaction_id)] : null,
        [t('tickets.assignee'), h('span', { id: 'ticket-assignee' }, assignee(tk.assigned_to))],
        [t('tickets.created'), when(tk.created_at, l)],
        [t('tickets.updated'), when(tk.updated_at, l)],
      ]), h('div', { class: 'actions' }, assign, resolve), actionStatus));
    fill(thread, tk.messages.map((m) => h('li', { class: 'msg ' + m.author, 'data-seq': m.seq },
      h('p', { class: 'msg-meta' },
        h('strong', null, m.author === 'customer' ? t('tickets.fromCustomer')
          : m.author_id === session.id ? t('tickets.me') : t('tickets.fromAgent', { id: m.author_id })),
        ' · ', when(m.created_at, l, true)),
      h('p', { class: 'msg-body' }, m.body))));
  };

  const reply = form({ id: 'reply-form' }, [
    field(t('tickets.reply'), message, t('tickets.replyHint')),
    submit(t('tickets.send')),
  ], async () => {
    const out = await api('POST', `/v1/agent/tickets/${id}/messages`, { message: message.value });
    const mine = out.messages[out.messages.length - 1];
    if (mine && mine.author === 'agent') session.learnId(mine.author_id);
    message.value = '';
    show(out);
    return t('tickets.sent');
  });

  fill(root, h('p', null, h('a', { href: '#/tickets', class: 'back' }, t('tickets.backToQueue'))), head,
    h('section', { class: 'card' }, thread), h('section', { class: 'card' }, reply));
  try {
    show(await api('GET', '/v1/agent/tickets/' + id));
  } catch (err) {
    fill(head, failure(err));
    reply.hidden = true;
    return;
  }
  const timer = setInterval(async () => {
    try {
      const tk = await api('GET', '/v1/agent/tickets/' + id);
      if (!current || tk.message_count !== current.message_count || tk.status !== current.status || tk.assigned_to !== current.assigned_to) show(tk);
    } catch {
      // The next tick tries again; a lapsed session is handled by the API wrapper.
    }
  }, POLL_MS);
  ctx.onStop(() => clearInterval(timer));
}
