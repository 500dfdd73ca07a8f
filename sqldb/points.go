package sqldb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of points.
const (
	// pointsEarnedSince walks the account's postings (postings_account) back to the
	// first of since's year at most twice a year's payments: it serves reads and
	// redemptions, never a payment.
	pointsEarnedSince = `SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN transfers t ON t.seq = p.transfer_seq
WHERE p.account_id = $1 AND t.kind = 'points_earn' AND t.created_at >= $2`
	pointsHolders = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts
WHERE id > $1 AND kind = 'points' AND balance > 0 ORDER BY id LIMIT $2`
	pointsExpiryDone = `SELECT COUNT(*) FROM points_expiry_runs WHERE year = $1`
	pointsExpiryMark = `INSERT INTO points_expiry_runs (year, finished_at) VALUES ($1, $2) ON CONFLICT (year) DO NOTHING`
	accountEntries   = `SELECT p.transfer_seq, t.id, t.kind, t.ref, p.amount, t.created_at FROM postings p
JOIN transfers t ON t.seq = p.transfer_seq WHERE p.account_id = $1 AND p.transfer_seq < $2 ORDER BY p.transfer_seq DESC LIMIT $3`
)

// PointsEarnedSince implements hebao.Tx, counting this batch's transfers too.
func (t *tx) PointsEarnedSince(_ context.Context, acct hebao.AccountID, since time.Time) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	var n int64
	if err := t.queryRow(pointsEarnedSince, int64(acct), since.UnixMicro()).Scan(&n); err != nil {
		return 0, fmt.Errorf("read points earned: %w", err)
	}
	if !t.b.now.Before(since) {
		for _, tr := range t.b.transfers {
			if tr.Kind != hebao.TransferPointsEarn {
				continue
			}
			for _, p := range tr.Postings {
				if p.Account == acct {
					n += p.Amount
				}
			}
		}
	}
	return n, nil
}

// PointsHolders implements hebao.Tx.
func (t *tx) PointsHolders(_ context.Context, after hebao.AccountID, limit int) ([]hebao.Account, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(pointsHolders, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("read points holders: %w", err)
	}
	defer rs.Close()
	var out []hebao.Account
	for rs.Next() {
		a, err := scanAccount(rs)
		if err != nil {
			return nil, fmt.Errorf("read points holders: %w", err)
		}
		out = append(out, a)
	}
	return out, rs.Err()
}

// PointsExpiryDone implements hebao.Tx.
func (t *tx) PointsExpiryDone(_ context.Context, year int) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	var n int64
	if err := t.queryRow(pointsExpiryDone, int64(year)).Scan(&n); err != nil {
		return false, fmt.Errorf("read points expiry: %w", err)
	}
	return n > 0, nil
}

// MarkPointsExpiryDone implements hebao.Tx.
func (t *tx) MarkPointsExpiryDone(_ context.Context, year int, at time.Time) error {
	if _, err := t.execOwn(pointsExpiryMark, int64(year), at.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("record points expiry: %w", err))
	}
	return nil
}

// AccountEntries implements hebao.Tx: committed postings only.
func (t *tx) AccountEntries(_ context.Context, id hebao.AccountID, before int64, limit int) ([]hebao.AccountEntry, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = 1 << 62
	}
	rs, err := t.query(accountEntries, int64(id), before, limit)
	if err != nil {
		return nil, fmt.Errorf("read account history: %w", err)
	}
	defer rs.Close()
	var out []hebao.AccountEntry
	for rs.Next() {
		var (
			e       hebao.AccountEntry
			kind    string
			created int64
		)
		if err := rs.Scan(&e.Seq, &e.TransferID, &kind, &e.Ref, &e.Amount, &created); err != nil {
			return nil, fmt.Errorf("read account history: %w", err)
		}
		e.Kind, e.CreatedAt = hebao.TransferKind(kind), time.UnixMicro(created).UTC()
		out = append(out, e)
	}
	return out, rs.Err()
}

type ownerKey struct {
	kind  hebao.AccountKind
	owner string
}

// ownerCache remembers the ids of the operator's committed accounts: they never
// change, and a payment that earns points then needs no read to find the issuance
// account.
type ownerCache struct{ m sync.Map }

// SystemAccount implements hebao.Tx. An id read from the database is remembered once
// the batch commits; one created here is read (and remembered) next time.
func (t *tx) SystemAccount(ctx context.Context, kind hebao.AccountKind, owner string) (hebao.AccountID, error) {
	k := ownerKey{kind, owner}
	if t.b.owners != nil {
		if id, ok := t.b.owners.m.Load(k); ok {
			return id.(hebao.AccountID), nil
		}
	}
	a, err := t.AccountByOwner(ctx, kind, owner)
	if err == nil {
		if t.b.seenOwners == nil {
			t.b.seenOwners = map[ownerKey]hebao.AccountID{}
		}
		t.b.seenOwners[k] = a.ID
		return a.ID, nil
	}
	if hebao.ErrorCode(err) != hebao.CodeNotFound {
		return 0, err
	}
	if a, err = hebao.NewAccount(kind, owner, "", false); err != nil {
		return 0, err
	}
	a, err = t.CreateAccount(ctx, a)
	return a.ID, err
}
