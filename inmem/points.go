package inmem

import (
	"cmp"
	"context"
	"slices"

	"github.com/hebaopay/hebao"
)

type bucketKey struct {
	wallet string
	year   int
}

func (t *tx) PointsBuckets(_ context.Context, walletID string) ([]hebao.PointsBucket, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.PointsBucket
	for k, b := range t.d.buckets {
		if k.wallet == walletID {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b hebao.PointsBucket) int { return cmp.Compare(a.Year, b.Year) })
	return out, nil
}

func (t *tx) ChangePointsBucket(_ context.Context, walletID string, year int, earned, remaining, expired int64) error {
	if err := t.write(); err != nil {
		return err
	}
	k := bucketKey{walletID, year}
	b, ok := t.d.buckets[k]
	if !ok {
		b = hebao.PointsBucket{WalletID: walletID, Year: year}
	}
	b.Earned += earned
	b.Remaining += remaining
	b.Expired += expired
	if b.Remaining < 0 {
		return hebao.Errorf(hebao.CodeInsufficientFunds, "points bucket %d of wallet %s would go below zero", year, walletID)
	}
	t.d.buckets[k] = b
	return nil
}

func (t *tx) DuePointsBuckets(_ context.Context, beforeYear int, limit int) ([]hebao.PointsBucket, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.PointsBucket
	for _, b := range t.d.buckets {
		if b.Year < beforeYear && b.Remaining > 0 {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b hebao.PointsBucket) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.WalletID, b.WalletID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) AccountEntries(_ context.Context, id hebao.AccountID, before int64, limit int) ([]hebao.AccountEntry, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.AccountEntry
	for i := len(t.d.transfers) - 1; i >= 0 && len(out) < limit; i-- {
		tr := t.d.transfers[i]
		if tr.Seq == 0 || (before > 0 && tr.Seq >= before) {
			continue // not committed yet, or not on this page
		}
		for _, p := range tr.Postings {
			if p.Account == id {
				out = append(out, hebao.AccountEntry{Seq: tr.Seq, TransferID: tr.ID, Kind: tr.Kind, Ref: tr.Ref, Amount: p.Amount, CreatedAt: tr.CreatedAt})
			}
		}
	}
	return out, nil
}

func (t *tx) SystemAccount(ctx context.Context, kind hebao.AccountKind, owner string) (hebao.AccountID, error) {
	a, err := t.AccountByOwner(ctx, kind, owner)
	if hebao.ErrorCode(err) == hebao.CodeNotFound {
		if a, err = hebao.NewAccount(kind, owner, "", false); err != nil {
			return 0, err
		}
		a, err = t.CreateAccount(ctx, a)
	}
	return a.ID, err
}

func (t *tx) CountCoupons(_ context.Context, customerID, campaignID, source string) (int, error) {
	if err := t.read(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range t.d.coupons {
		if c.CustomerID == customerID && c.CampaignID == campaignID && c.Source == source {
			n++
		}
	}
	return n, nil
}
