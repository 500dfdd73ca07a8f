package sqldb

import (
	"context"
	"maps"
	"strings"

	"github.com/hebaopay/hebao"
	"github.com/jackc/pgx/v5"
)

// readAhead is what a PostgreSQL batch read, in the round trip that locks the chain
// head, of the rows its closures named (hebao.ReadAhead): their idempotency keys,
// payers, payees and orders (the accounts those name go straight into the batch's
// accounts, as if a closure had read them). A closure's read is answered from here
// instead of costing a round trip of its own while the head is held; it is what the
// same statement would have returned, since no other batch can commit while the head
// is locked and this batch buffers its own changes (counters, balances) on top. A
// direct write by an earlier closure of the batch (rowsDirty) may have changed a
// payer's or payee's row, and the closure then reads the database as before. Rows not
// found are not kept: the closure's own read says so.
type readAhead struct {
	replies map[replyKey]*storedReply // every key asked; nil when none is stored
	payers  map[string]hebao.Payer    // by customer id
	payees  map[string]payeeRead      // by wallet id
	phones  map[string]string         // phone → wallet id
	orders  map[string]hebao.Order    // by id, as committed: the batch's own changes are in batchState.orders
}

// reply returns the stored reply of k, whether one was found, and whether k was
// read ahead at all.
func (ra *readAhead) reply(k hebao.IdempotencyKey) (storedReply, bool, bool) {
	if ra == nil {
		return storedReply{}, false, false
	}
	r, asked := ra.replies[replyKey{k.Scope, k.Key}]
	if !asked || r == nil {
		return storedReply{}, false, asked
	}
	return *r, true, true
}

func (ra *readAhead) payer(customerID string, dirty bool) (hebao.Payer, bool) {
	if ra == nil || dirty {
		return hebao.Payer{}, false
	}
	p, ok := ra.payers[customerID]
	if ok && p.Password != nil {
		pw := *p.Password // the closure may change its copy
		p.Password = &pw
	}
	return p, ok
}

func (ra *readAhead) payee(walletID, phone string, dirty bool) (payeeRead, bool) {
	if ra == nil || dirty {
		return payeeRead{}, false
	}
	if walletID == "" {
		if walletID = ra.phones[phone]; walletID == "" {
			return payeeRead{}, false
		}
	}
	p, ok := ra.payees[walletID]
	return p, ok
}

func (ra *readAhead) order(id string) (hebao.Order, bool) {
	if ra == nil {
		return hebao.Order{}, false
	}
	o, ok := ra.orders[id]
	return o, ok
}

// readAheadHints gathers the hints of a batch's calls, each name once.
type readAheadHints struct {
	scopes, keys                []string
	payers, payeeIDs, payeeTels []string
	orders                      []string
}

func hintsOf(batch []*call) readAheadHints {
	var h readAheadHints
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if v != "" && !seen[kind+v] {
			seen[kind+v] = true
			*list = append(*list, v)
		}
	}
	for _, c := range batch {
		ra, ok := hebao.ReadAheadOf(c.ctx)
		if !ok {
			continue
		}
		if k := ra.Key; k.Scope != "" && k.Key != "" && !seen["k"+k.Scope+"\x00"+k.Key] {
			seen["k"+k.Scope+"\x00"+k.Key] = true
			h.scopes, h.keys = append(h.scopes, k.Scope), append(h.keys, k.Key)
		}
		add(&h.payers, "p", ra.Payer)
		add(&h.payeeIDs, "w", ra.PayeeWallet)
		add(&h.payeeTels, "t", ra.PayeePhone)
		add(&h.orders, "o", ra.Order)
	}
	return h
}

func (h readAheadHints) empty() bool {
	return len(h.keys) == 0 && len(h.payers) == 0 && len(h.payeeIDs) == 0 && len(h.payeeTels) == 0 && len(h.orders) == 0
}

// The read-ahead statements: the closures' own statements, for many rows at once,
// locking what they lock.
var (
	pgReadAheadReplies = `SELECT scope, key, request_hash, status, body FROM idempotency_keys
WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
	pgReadAheadPayers = strings.Replace(payerQuery, "WHERE w.customer_id = $1", "WHERE w.customer_id = ANY($1::text[])", 1) + ` FOR UPDATE OF u`
	// The accounts the batch's transfers will debit or credit, read now so that
	// they need no read of their own when the committer's cache is stale (another
	// server wrote): the payers' own, red-packet and points accounts ($1), and for
	// orders ($2) their merchants' accounts and the source of points.
	pgReadAheadAccounts = `SELECT a.id, a.kind, a.unit, a.owner, a.may_go_negative, a.balance, a.created_at FROM accounts a
WHERE a.id IN (SELECT unnest(ARRAY[w.account_id, w.promo_account_id, w.points_account_id]) FROM wallets w WHERE w.customer_id = ANY($1::text[])
UNION ALL SELECT m.account_id FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.id = ANY($2::text[])
UNION ALL SELECT i.id FROM accounts i WHERE i.kind = '` + string(hebao.AccountPointsIssuance) + `' AND i.owner = '' AND cardinality($2::text[]) > 0)
ORDER BY a.id`
	pgReadAheadPayeesByID    = payeeColumns + ` WHERE w.id = ANY($1::text[]) FOR UPDATE OF u, a`
	pgReadAheadPayeesByPhone = payeeColumns + ` WHERE c.phone = ANY($1::text[]) FOR UPDATE OF u, a`
	pgReadAheadOrders        = `SELECT ` + orderColumns + ` FROM orders WHERE id = ANY($1::text[])`
)

// lockHeadReadingAhead locks the chain head and, in the same round trip, reads what
// the hints name. The accounts it returns (pgReadAheadAccounts) are as stored.
func (t *pgTx) lockHeadReadingAhead(ctx context.Context, h readAheadHints) (hebao.ChainHead, *readAhead, []hebao.Account, error) {
	var b pgx.Batch
	b.Queue(pgSelectHead + ` FOR UPDATE`)
	queueReadAhead(&b, h)
	br := t.tx.SendBatch(ctx, &b)
	head, ra, accts, err := readAheadResults(br, h, true)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return hebao.ChainHead{}, nil, nil, translate(err)
	}
	return head, ra, accts, nil
}

// readAheadUnderHead reads what the hints name, in one round trip, by a batch that
// holds the chain head already.
func (t *pgTx) readAheadUnderHead(ctx context.Context, h readAheadHints) (*readAhead, []hebao.Account, error) {
	var b pgx.Batch
	queueReadAhead(&b, h)
	br := t.tx.SendBatch(ctx, &b)
	_, ra, accts, err := readAheadResults(br, h, false)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	return ra, accts, nil
}

// merge returns ra with more's rows added (either may be nil).
func (ra *readAhead) merge(more *readAhead) *readAhead {
	if ra == nil {
		return more
	}
	if more == nil {
		return ra
	}
	maps.Copy(ra.replies, more.replies)
	maps.Copy(ra.payers, more.payers)
	maps.Copy(ra.payees, more.payees)
	maps.Copy(ra.phones, more.phones)
	maps.Copy(ra.orders, more.orders)
	return ra
}

func queueReadAhead(b *pgx.Batch, h readAheadHints) {
	if len(h.keys) > 0 {
		b.Queue(pgReadAheadReplies, h.scopes, h.keys)
	}
	if len(h.payers) > 0 {
		b.Queue(pgReadAheadPayers, h.payers)
	}
	if len(h.payeeIDs) > 0 {
		b.Queue(pgReadAheadPayeesByID, h.payeeIDs)
	}
	if len(h.payeeTels) > 0 {
		b.Queue(pgReadAheadPayeesByPhone, h.payeeTels)
	}
	if len(h.orders) > 0 {
		b.Queue(pgReadAheadOrders, h.orders)
	}
	if len(h.payers) > 0 || len(h.orders) > 0 {
		b.Queue(pgReadAheadAccounts, h.payers, h.orders)
	}
}

func readAheadResults(br pgx.BatchResults, h readAheadHints, withHead bool) (hebao.ChainHead, *readAhead, []hebao.Account, error) {
	var head hebao.ChainHead
	if withHead {
		var err error
		if head, _, err = scanHead(br.QueryRow()); err != nil {
			return head, nil, nil, err
		}
	}
	ra := &readAhead{
		replies: make(map[replyKey]*storedReply, len(h.keys)),
		payers:  make(map[string]hebao.Payer, len(h.payers)),
		payees:  make(map[string]payeeRead, len(h.payeeIDs)+len(h.payeeTels)),
		phones:  make(map[string]string, len(h.payeeTels)),
		orders:  make(map[string]hebao.Order, len(h.orders)),
	}
	each := func(fn func(pgx.Rows) error) error {
		rs, err := br.Query()
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			if err := fn(rs); err != nil {
				return err
			}
		}
		return rs.Err()
	}
	if len(h.keys) > 0 {
		for i := range h.keys {
			ra.replies[replyKey{h.scopes[i], h.keys[i]}] = nil
		}
		err := each(func(rs pgx.Rows) error {
			var (
				scope, key string
				r          storedReply
				status     int32
			)
			if err := rs.Scan(&scope, &key, &r.requestHash, &status, &r.body); err != nil {
				return err
			}
			r.status = int(status)
			ra.replies[replyKey{scope, key}] = &r
			return nil
		})
		if err != nil {
			return head, nil, nil, err
		}
	}
	var accts []hebao.Account
	if len(h.payers) > 0 {
		err := each(func(rs pgx.Rows) error {
			p, err := scanPayer(rs)
			if err != nil {
				return err
			}
			ra.payers[p.Wallet.CustomerID] = p
			return nil
		})
		if err != nil {
			return head, nil, nil, err
		}
	}
	payee := func(rs pgx.Rows) error {
		p, err := scanPayee(rs)
		if err != nil {
			return err
		}
		ra.payees[p.w.ID] = p
		ra.phones[p.phone] = p.w.ID
		return nil
	}
	for _, n := range []int{len(h.payeeIDs), len(h.payeeTels)} {
		if n > 0 {
			if err := each(payee); err != nil {
				return head, nil, nil, err
			}
		}
	}
	if len(h.orders) > 0 {
		err := each(func(rs pgx.Rows) error {
			o, err := scanOrder(rs)
			if err != nil {
				return err
			}
			ra.orders[o.ID] = o
			return nil
		})
		if err != nil {
			return head, nil, nil, err
		}
	}
	if len(h.payers) > 0 || len(h.orders) > 0 {
		rs, err := br.Query()
		if err != nil {
			return head, nil, nil, err
		}
		err = eachAccountRow(rs, func(a hebao.Account) error {
			accts = append(accts, a)
			return nil
		})
		rs.Close()
		if err != nil {
			return head, nil, nil, err
		}
	}
	return head, ra, accts, nil
}
