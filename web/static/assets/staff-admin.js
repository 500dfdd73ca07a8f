// Admin pages: merchants (listed with their settlement balances, and created with
// their secrets shown once), wallet tiers, the audit log and ledger verification.

import { h, fill, field, when, yuan } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query } from './staff-api.js';
import { form, submit, section, kv, badge, problem, loading, table, pagedTable } from './staff-ui.js';
import { tierForm } from './staff-customers.js';

export async function merchantsPage(root) {
  const l = lang();
  const list = pagedTable({
    id: 'mch-list',
    columns: [[t('mch.name')], [t('mch.id')], [t('mch.createdAt')], [t('mch.balance'), 'num']],
    row: (m) => h('tr', { 'data-id': m.id },
      h('td', null, m.name),
      h('td', null, h('code', null, m.id)),
      h('td', { class: 'nowrap' }, when(m.created_at, l)),
      h('td', { class: 'num' }, yuan(m.balance))),
    load: (cursor) => api('GET', '/v1/admin/merchants' + query({ limit: 20, cursor })),
    empty: t('mch.empty'),
    shown: (n) => t('mch.shown', { n }),
  });
  const name = h('input', { id: 'mch-name', name: 'name', maxlength: 100, required: true, autocomplete: 'off' });
  const created = h('div', { id: 'mch-created' });
  const f = form({ id: 'mch-form', class: 'inline-form' }, [
    field(t('mch.name'), name, t('mch.nameHint')),
    submit(t('mch.submit')),
  ], async () => {
    fill(created);
    const m = await api('POST', '/v1/admin/merchants', { name: name.value });
    name.value = '';
    showSecrets(created, m);
    list.reload();
  });
  fill(root, h('h2', null, t('mch.title')), section(t('mch.create'), f), created, section(t('mch.list'), list));
  await list.reload();
}

// showSecrets shows a new merchant's API key and webhook secret, which the API
// never shows again; they live only in this element until it is cleared.
function showSecrets(el, m) {
  fill(el, h('section', { class: 'card secrets', role: 'region', 'aria-label': t('mch.created') },
    h('h3', null, t('mch.created'), ': ', m.name),
    h('div', { class: 'alert warn', role: 'alert' }, t('mch.warning')),
    kv([
      [t('mch.id'), h('code', { id: 'mch-id' }, m.id)],
      [t('mch.apiKey'), secret('mch-api-key', m.api_key)],
      [t('mch.webhookSecret'), secret('mch-webhook-secret', m.webhook_secret)],
    ]),
    h('button', { type: 'button', class: 'secondary', id: 'mch-saved', onclick: () => fill(el) }, t('mch.saved'))));
}

function secret(id, value) {
  const input = h('input', { id, value, readonly: true, class: 'secret', spellcheck: 'false', autocomplete: 'off' });
  const button = h('button', { type: 'button', class: 'secondary small' }, t('copy'));
  button.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = t('copied');
    } catch {
      // No clipboard here (plain http): the value is selected for Ctrl+C.
    }
  });
  return h('span', { class: 'secret-row' }, input, button);
}

export async function tiersPage(root) {
  fill(root, h('h2', null, t('tier.title')), section(null, tierForm('')));
}

export async function auditPage(root) {
  let limit = 20;
  const cursors = ['']; // the cursor of each page shown so far; the last is this page's
  const out = h('div', { id: 'audit' });
  const per = h('select', { id: 'audit-limit', onchange: () => { limit = Number(per.value); cursors.length = 1; load(); } },
    [20, 50, 100].map((n) => h('option', { value: n }, String(n))));

  const load = async () => {
    fill(out, loading());
    try {
      const page = await api('GET', '/v1/admin/audit' + query({ limit, cursor: cursors[cursors.length - 1] }));
      const l = lang();
      const prev = h('button', { type: 'button', class: 'secondary', id: 'audit-prev', disabled: cursors.length === 1,
        onclick: () => { cursors.pop(); load(); } }, t('prev'));
      const next = h('button', { type: 'button', class: 'secondary', id: 'audit-next', disabled: !page.next_cursor,
        onclick: () => { cursors.push(page.next_cursor); load(); } }, t('next'));
      fill(out,
        page.items.length === 0 ? h('p', { class: 'muted' }, t('audit.empty'))
          : table([t('audit.time'), t('audit.actor'), t('audit.action'), t('audit.subject'), t('audit.detail'), t('audit.request')],
            page.items.map((r) => h('tr', null,
              h('td', { class: 'nowrap' }, when(r.at, l, true)),
              h('td', null, h('code', null, r.actor.kind + (r.actor.id ? ':' + r.actor.id : ''))),
              h('td', null, h('code', null, r.action)),
              h('td', null, r.subject ? h('code', null, r.subject) : '—'),
              h('td', null, detail(r.detail)),
              h('td', null, r.request_id ? h('code', { class: 'small' }, r.request_id) : '—'))), { id: 'audit-table' }),
        h('div', { class: 'pager' }, prev, h('span', { class: 'muted' }, t('audit.page', { n: cursors.length })), next));
    } catch (err) {
      fill(out, problem(err));
    }
  };
  fill(root, h('h2', null, t('audit.title')), h('div', { class: 'toolbar' }, h('label', null, t('audit.perPage'), ' ', per)), out);
  await load();
}

function detail(d) {
  const keys = Object.keys(d || {}).sort();
  if (keys.length === 0) return '—';
  return h('ul', { class: 'detail-list' }, keys.map((k) => h('li', null, h('span', { class: 'muted' }, k), ' ', d[k])));
}

export async function ledgerPage(root) {
  const out = h('div', { id: 'ledger-report', 'aria-live': 'polite' });
  const run = h('button', { type: 'button', class: 'primary', id: 'ledger-run' }, t('ledger.run'));
  run.addEventListener('click', async () => {
    run.disabled = true;
    fill(out, h('p', { class: 'muted' }, t('ledger.running')));
    const start = performance.now();
    try {
      const rep = await api('GET', '/v1/admin/ledger/verify');
      showReport(out, rep, Math.round(performance.now() - start));
    } catch (err) {
      fill(out, problem(err));
    } finally {
      run.disabled = false;
    }
  });
  fill(root, h('h2', null, t('ledger.title')), section(null, h('p', { class: 'muted' }, t('ledger.lead')), run), out);
}

function unitAmount(unit, v) {
  return unit === 'CNY' ? yuan(v) : Number(v).toLocaleString();
}

function showReport(el, rep, ms) {
  const units = [...new Set([...Object.keys(rep.sums || {}), ...Object.keys(rep.issued || {})])].sort();
  fill(el, section(null,
    h('p', { class: 'verdict' }, badge(rep.ok ? 'ok' : 'bad', rep.ok ? t('ledger.ok') : t('ledger.bad')),
      ' ', h('span', { class: 'muted small' }, t('ledger.elapsed', { ms }))),
    h('div', { class: 'tiles' },
      figure(t('ledger.transfers'), rep.transfers, 'ledger-transfers'),
      figure(t('ledger.postings'), rep.postings, 'ledger-postings'),
      figure(t('ledger.accounts'), rep.accounts, 'ledger-accounts'),
      figure(t('ledger.headSeq'), rep.head_seq, 'ledger-head-seq')),
    kv([[t('ledger.headHash'), h('code', { id: 'ledger-head-hash', class: 'hash' }, rep.head_hash || '—')]]),
    table(['', t('ledger.sums'), t('ledger.issued')], units.map((u) => h('tr', { 'data-unit': u },
      h('th', { scope: 'row' }, t('ledger.unit.' + u)),
      h('td', { class: 'num' + (rep.sums[u] === 0 ? '' : ' bad') }, unitAmount(u, rep.sums[u] ?? 0)),
      h('td', { class: 'num' }, unitAmount(u, rep.issued[u] ?? 0)))), { id: 'ledger-units' }),
    rep.first_bad ? section(t('ledger.firstBad'), kv([['seq', String(rep.first_bad.seq)], ['id', h('code', null, rep.first_bad.id)],
      ['', rep.first_bad.reason]])) : null,
    rep.problems && rep.problems.length ? section(t('ledger.problems'), h('ul', { id: 'ledger-problems' }, rep.problems.map((p) => h('li', null, p)))) : null));
  el.firstChild.id = 'ledger-result';
  el.firstChild.dataset.ok = String(rep.ok);
}

function figure(label, value, id) {
  return h('div', { class: 'tile' }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value', id }, Number(value).toLocaleString()));
}
