// Pieces every page of the staff console is built from: sections, key-value lists,
// badges, and forms that show the API's own error detail.

import { h, fill } from './staff-dom.js';
import { t } from './staff-i18n.js';

// problem shows an ApiError: the API's detail, with its code and request id small
// beneath for a support ticket.
export function problem(err) {
  if (err && err.status === 0) return h('div', { class: 'alert error', role: 'alert' }, t('networkError'));
  const detail = (err && (err.detail || err.message)) || String(err);
  const meta = err && err.code ? t('errorMeta', { code: err.code, id: err.requestId || '—' }) : '';
  return h('div', { class: 'alert error', role: 'alert' }, h('p', { class: 'detail' }, detail), meta ? h('small', { class: 'meta' }, meta) : null);
}

export function notice(text, kind = 'ok') {
  return h('div', { class: 'alert ' + kind, role: 'status' }, text);
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h3', null, title) : null, ...children);
}

// kv is a list of [label, value] pairs; a null value shows a dash.
export function kv(rows) {
  return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

export function badge(kind, text) {
  return h('span', { class: 'badge ' + kind }, text);
}

// lacks marks something the API does not offer, in words staff can act on.
export function lacks(text) {
  return h('p', { class: 'lacks' }, h('span', { class: 'badge muted' }, t('apiLacks')), ' ', text);
}

// form builds a <form> whose submit runs fn(form) with the submit button disabled;
// an error thrown by fn is shown in the form's status line, and a string returned
// by fn is shown there as a success.
export function form(attrs, children, fn) {
  const status = h('div', { class: 'status', 'aria-live': 'polite' });
  const el = h('form', Object.assign({ novalidate: true }, attrs), children, status);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const buttons = el.querySelectorAll('button[type=submit]');
    buttons.forEach((b) => { b.disabled = true; });
    fill(status);
    try {
      const msg = await fn(el);
      if (msg) fill(status, notice(msg));
    } catch (err) {
      fill(status, problem(err));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return el;
}

// submit is a form's submit button.
export function submit(label, cls) {
  return h('button', { type: 'submit', class: cls || 'primary' }, label);
}

// localError is a mistake found before calling the API, shown like the API's own.
export function localError(detail) {
  const e = new Error(detail);
  e.detail = detail;
  return e;
}

export function loading() {
  return h('p', { class: 'muted' }, t('loading'));
}

// table builds a table from column headers and rows of cells.
export function table(headers, rows, attrs) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs || null,
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows)));
}

// pagedTable shows a list route ({items, next_cursor}, newest first) as one table
// that grows a page at a time with "more". load(cursor) fetches a page ('' for the
// first); columns are [label, class] pairs and row(item) builds the <tr>. reload()
// starts again from the first page; an error is shown in the API's own words.
export function pagedTable({ id, columns, row, load, empty, shown }) {
  const el = h('div', { id, 'aria-live': 'polite' });
  let items = [];
  let next = '';
  let seq = 0; // the latest request: answers to older ones are dropped
  let error = null;
  const render = () => {
    fill(el,
      items.length === 0 ? h('p', { class: 'muted' }, error ? null : empty)
        : h('div', { class: 'table-wrap' }, h('table', { id: id + '-table' },
          h('thead', null, h('tr', null, columns.map(([label, cls]) => h('th', { scope: 'col', class: cls || null }, label)))),
          h('tbody', null, items.map(row)))),
      error ? problem(error) : null,
      h('div', { class: 'more' },
        next ? h('button', { type: 'button', class: 'secondary', id: id + '-more', onclick: () => get(true) }, t('more')) : null,
        items.length ? h('span', { class: 'muted small', id: id + '-count' }, shown(items.length)) : null));
  };
  const get = async (more) => {
    const mine = ++seq;
    error = null;
    if (!more) fill(el, loading());
    let page;
    try {
      page = await load(more ? next : '');
    } catch (err) {
      if (mine !== seq) return;
      error = err;
      render();
      return;
    }
    if (mine !== seq) return;
    items = more ? [...items, ...page.items] : page.items;
    next = page.next_cursor || '';
    render();
  };
  el.reload = () => get(false);
  return el;
}
