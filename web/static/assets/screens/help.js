// Help: answers to the common questions, what the latest failed or pending
// operation means, and the way to customer service (tickets come with their own
// screens; the link is a placeholder until then).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, session } from '../api.js';
import { cny } from '../money.js';
import { kindName } from '../labels.js';
import { page } from '../ui.js';

const tiers = [ // SPEC §3, the defaults
  [4, 1000000, 200000, 500000, 5000000],
  [3, 2000000, 500000, 1000000, 10000000],
  [2, 50000000, 5000000, 10000000, null],
  [1, null, null, null, null],
];

export async function render({ view }) {
  const qa = ['failed', 'delayed', 'password', 'limits', 'lost', 'gifts', 'safety'].map((k) => h('details', { class: 'qa', id: 'qa-' + k },
    h('summary', null, t('help.q.' + k)),
    h('p', null, t('help.a.' + k)),
    k === 'limits' ? limitsTable() : null));
  const diagnosis = h('section', { class: 'panel', id: 'diagnosis' });
  view.append(...page(t('help.title'), [
    session.token ? diagnosis : null,
    h('section', { class: 'panel' }, h('h2', null, t('help.faq')), qa),
    h('section', { class: 'panel', id: 'contact' },
      h('h2', null, t('help.contact')),
      h('p', null, t('help.contactText')),
      h('a', { class: 'btn ghost block', href: '#/help', id: 'contact-link', 'aria-disabled': 'true' }, t('help.contactSoon'))),
  ], { back: session.token ? '#/' : '#/welcome' }));
  if (!session.token) return;
  try {
    const txs = await api('GET', '/v1/transactions?limit=20');
    const bad = txs.items.find((x) => x.status !== 'succeeded' && x.failure);
    diagnosis.append(h('h2', null, t('help.latest')));
    if (!bad) diagnosis.append(h('p', { class: 'muted' }, t('help.allGood')));
    else {
      diagnosis.append(
        h('p', null, h('a', { href: '#/tx/' + bad.id }, kindName(bad.kind), ' ', cny(bad.amount)), ' · ', t('status.' + bad.status)),
        h('p', null, bad.failure.explanation),
        h('p', { class: 'muted' }, '→ ', bad.failure.next_step));
    }
  } catch {
    diagnosis.remove();
  }
}

function limitsTable() {
  const v = (x) => (x === null ? t('limit.none') : cny(x));
  return h('table', { class: 'tiers' },
    h('thead', null, h('tr', null, ['help.tier', 'limit.cap', 'limit.single', 'limit.daily', 'limit.yearly'].map((k) => h('th', null, t(k))))),
    h('tbody', null, tiers.map(([tier, ...xs]) => h('tr', null, h('td', null, t('tier.' + tier)), xs.map((x) => h('td', null, v(x)))))));
}
