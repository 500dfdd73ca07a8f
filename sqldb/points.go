package sqldb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of points buckets and account histories.
const (
	pointsBuckets = `SELECT wallet_id, year, earned, remaining, expired FROM points_buckets WHERE wallet_id = $1 ORDER BY year`
	pointsDue     = `SELECT wallet_id, year, earned, remaining, expired FROM points_buckets WHERE year < $1 AND remaining > 0
ORDER BY year, wallet_id LIMIT $2`
	// pointsUpsert adds deltas; the CHECK on remaining refuses to take a bucket below
	// zero, whatever the code above it does.
	pointsUpsert = `INSERT INTO points_buckets (wallet_id, year, earned, remaining, expired) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (wallet_id, year) DO UPDATE SET earned = points_buckets.earned + excluded.earned,
remaining = points_buckets.remaining + excluded.remaining, expired = points_buckets.expired + excluded.expired`
	// pointsTake is the change that takes points out of a bucket, which exists: the
	// upsert cannot, since the row it would insert breaks the CHECK.
	pointsTake = `UPDATE points_buckets SET earned = earned + $3, remaining = remaining + $4, expired = expired + $5
WHERE wallet_id = $1 AND year = $2`
	accountEntries = `SELECT p.transfer_seq, t.id, t.kind, t.ref, p.amount, t.created_at FROM postings p
JOIN transfers t ON t.seq = p.transfer_seq WHERE p.account_id = $1 AND p.transfer_seq < $2 ORDER BY p.transfer_seq DESC LIMIT $3`
)

type bucketKey struct {
	wallet string
	year   int
}

// bucketDelta is what a batch changes in one bucket, written at its flush: the
// changes add up, so buffering them needs no lock beyond the batch's.
type bucketDelta struct{ earned, remaining, expired int64 }

// PointsBuckets implements hebao.Tx: the stored buckets with the batch's changes.
func (t *tx) PointsBuckets(_ context.Context, walletID string) ([]hebao.PointsBucket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(pointsBuckets, walletID)
	if err != nil {
		return nil, fmt.Errorf("read points buckets: %w", err)
	}
	out, err := scanBuckets(rs)
	if err != nil {
		return nil, err
	}
	for k, d := range t.b.points {
		if k.wallet != walletID {
			continue
		}
		i := slices.IndexFunc(out, func(b hebao.PointsBucket) bool { return b.Year == k.year })
		if i < 0 {
			out = append(out, hebao.PointsBucket{WalletID: walletID, Year: k.year})
			i = len(out) - 1
		}
		out[i].Earned += d.earned
		out[i].Remaining += d.remaining
		out[i].Expired += d.expired
	}
	slices.SortFunc(out, func(a, b hebao.PointsBucket) int { return cmp.Compare(a.Year, b.Year) })
	return out, nil
}

func scanBuckets(rs closingRows) ([]hebao.PointsBucket, error) {
	defer rs.Close()
	var out []hebao.PointsBucket
	for rs.Next() {
		var (
			b    hebao.PointsBucket
			year int64
		)
		if err := rs.Scan(&b.WalletID, &year, &b.Earned, &b.Remaining, &b.Expired); err != nil {
			return nil, fmt.Errorf("read points buckets: %w", err)
		}
		b.Year = int(year)
		out = append(out, b)
	}
	return out, rs.Err()
}

// ChangePointsBucket implements hebao.Tx. The change is buffered and written at the
// flush, like a movement, so a payment that earns points needs no savepoint.
func (t *tx) ChangePointsBucket(ctx context.Context, walletID string, year int, earned, remaining, expired int64) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if remaining < 0 {
		bs, err := t.PointsBuckets(ctx, walletID)
		if err != nil {
			return err
		}
		have := int64(0)
		for _, b := range bs {
			if b.Year == year {
				have = b.Remaining
			}
		}
		if have+remaining < 0 {
			return hebao.Errorf(hebao.CodeInsufficientFunds, "points bucket %d has %d points, not %d", year, have, -remaining)
		}
	}
	k := bucketKey{walletID, year}
	if t.b.points == nil {
		t.b.points = map[bucketKey]*bucketDelta{}
	}
	if t.undoPoints == nil {
		t.undoPoints = map[bucketKey]*bucketDelta{}
	}
	cur := t.b.points[k]
	if _, ok := t.undoPoints[k]; !ok {
		if cur != nil {
			c := *cur
			t.undoPoints[k] = &c
		} else {
			t.undoPoints[k] = nil
		}
	}
	if cur == nil {
		cur = &bucketDelta{}
		t.b.points[k] = cur
	}
	cur.earned += earned
	cur.remaining += remaining
	cur.expired += expired
	return nil
}

// DuePointsBuckets implements hebao.Tx.
func (t *tx) DuePointsBuckets(_ context.Context, beforeYear int, limit int) ([]hebao.PointsBucket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(pointsDue, int64(beforeYear), limit)
	if err != nil {
		return nil, fmt.Errorf("read due points buckets: %w", err)
	}
	return scanBuckets(rs)
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
