package inmem

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) PointsEarnedSince(_ context.Context, acct hebao.AccountID, since time.Time) (int64, error) {
	if err := t.read(); err != nil {
		return 0, err
	}
	var n int64
	for _, tr := range t.d.transfers {
		if tr.Kind != hebao.TransferPointsEarn {
			continue
		}
		at := tr.CreatedAt
		if tr.Seq == 0 {
			at = t.now // posted in this closure: sealed at its commit
		}
		if at.Before(since) {
			continue
		}
		for _, p := range tr.Postings {
			if p.Account == acct {
				n += p.Amount
			}
		}
	}
	return n, nil
}

func (t *tx) PointsHolders(_ context.Context, after hebao.AccountID, limit int) ([]hebao.Account, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Account
	for _, a := range t.d.accounts {
		if a.Kind == hebao.AccountPoints && a.Balance > 0 && a.ID > after {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Account) int { return cmp.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) PointsExpiryDone(_ context.Context, year int) (bool, error) {
	if err := t.read(); err != nil {
		return false, err
	}
	return t.d.pointsExpiry[year], nil
}

func (t *tx) MarkPointsExpiryDone(_ context.Context, year int, _ time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.pointsExpiry[year] = true
	return nil
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
