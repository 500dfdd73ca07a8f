package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestCampaignOpeningGifts: a campaign funded from the marketing account gives each
// new wallet its red packet until the budget cannot cover another, then gives nothing
// and says so; 50 wallets opened at once over two processes never take more than the
// budget holds.
func TestCampaignOpeningGifts(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		keys := testKeyring(t)
		ctx := context.Background()
		admin := hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_test"}
		campaigns := &hebao.CampaignService{Store: dbs[0], Keys: keys}
		now := time.Now()
		c, err := campaigns.Create(ctx, admin, hebao.CampaignRequest{Name: "开通礼", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour),
			Budget: 8_880, Rules: hebao.CampaignRules{OpeningRedPacket: 888}})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := campaigns.Status(ctx, c.ID); err != nil || st.State != "active" || st.Remaining != 8_880 || st.Spent != 0 {
			t.Fatalf("a new campaign: %v %+v", err, st)
		}
		// Bad requests create nothing.
		for name, r := range map[string]hebao.CampaignRequest{
			"no name":        {StartsAt: now, EndsAt: now.Add(time.Hour), Budget: 100},
			"ends first":     {Name: "x", StartsAt: now, EndsAt: now.Add(-time.Hour), Budget: 100},
			"no budget":      {Name: "x", StartsAt: now, EndsAt: now.Add(time.Hour)},
			"gift > budget":  {Name: "x", StartsAt: now, EndsAt: now.Add(time.Hour), Budget: 100, Rules: hebao.CampaignRules{OpeningRedPacket: 101}},
			"two years long": {Name: "x", StartsAt: now, EndsAt: now.Add(2 * 366 * 24 * time.Hour), Budget: 100},
		} {
			if _, err := campaigns.Create(ctx, admin, r); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("%s: %v, want invalid_request", name, err)
			}
		}

		const n = 50
		regs := make([]hebao.Registered, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := &hebao.CustomerService{Store: dbs[i%2], OTP: anyCode{}, Argon2: cheapArgon2, Gifts: keys}
			wg.Go(func() {
				regs[i], errs[i] = svc.Register(ctx, hebao.Registration{Phone: fmt.Sprintf("137%08d", i), OTP: "123456", Password: "correct horse", DeviceID: "d"})
			})
		}
		wg.Wait()
		gifted := 0
		for i, r := range regs {
			if errs[i] != nil {
				t.Fatalf("register %d: %v", i, errs[i])
			}
			var promo int64
			dbs[0].View(ctx, func(tx hebao.Tx) error {
				as, err := tx.Accounts(ctx, r.Wallet.PromoAccount)
				promo = as[r.Wallet.PromoAccount].Balance
				return err
			})
			switch promo {
			case 888:
				gifted++
			case 0:
			default:
				t.Errorf("wallet %d got %d in red packets", i, promo)
			}
		}
		if gifted != 10 {
			t.Errorf("%d wallets got the red packet, want 10 (the budget holds 10)", gifted)
		}
		st, err := campaigns.Status(ctx, c.ID)
		if err != nil || st.State != "budget_spent" || st.Remaining != 0 || st.Spent != 8_880 || st.Grants != 10 {
			t.Errorf("the spent campaign: %v %+v", err, st)
		}
		if _, err := campaigns.Status(ctx, "cmp_nope"); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("an unknown campaign: %v", err)
		}
		// Once per person: the grant is keyed by the person, whatever wallet asks.
		err = dbs[0].Transact(ctx, func(tx hebao.Tx) error {
			return tx.CreateGrant(ctx, hebao.Grant{ID: hebao.NewID("gnt"), CampaignID: c.ID, Kind: hebao.GrantOpeningRedPacket,
				PersonKey: "phone:" + keys.Lookup("grant person", "13700000000"), WalletID: "wal_x", Amount: 1, CreatedAt: tx.Now()})
		})
		if hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("a second grant to the same person: %v, want conflict", err)
		}
		mustVerify(t, dbs[0])
	})
}
