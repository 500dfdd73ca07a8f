package sqldb

import (
	"context"
	"testing"

	"github.com/hebaopay/hebao"
)

// TestMoneyRowCacheSeesOtherWriters: the committer keeps what transfers read about
// payers and payees between batches, and must drop it the moment anything else
// changed those rows — another handle on the database (another process), or a
// direct write through its own committer.
func TestMoneyRowCacheSeesOtherWriters(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		a, b := ws[0], ws[1]
		ctx := context.Background()
		payer := a.customer("13800000201", 4, 600_000)
		payee := a.customer("13800000202", 1, 0)
		n := 0
		send := func(w *world, amount int64, pw string) error {
			n++
			r := transferRequest(payer, payee.Customer.Phone, amount, "cache-"+string(rune('a'+n)))
			r.PaymentPassword = pw
			_, err := w.transfers.Send(ctx, r)
			return err
		}
		// Handle a reads the payer and payee, and keeps them.
		if err := send(a, 150_000, payPassword); err != nil {
			t.Fatal(err)
		}
		// Another process pays from the same wallet: a's counters are stale now.
		if err := send(b, 200_000, payPassword); err != nil {
			t.Fatal(err)
		}
		// The daily limit at tier 4 is ¥5,000: 1,500 + 2,000 used, so 1,501 more is
		// too much, whichever handle asks.
		if err := send(a, 150_100, payPassword); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("after another process paid: %v, want limit_exceeded", err)
		}
		if err := send(a, 150_000, payPassword); err != nil {
			t.Fatalf("up to the limit: %v", err)
		}

		// Another process freezes the wallet: a must see it.
		st := &hebao.WalletStatusService{Store: b.db}
		if _, err := st.Freeze(ctx, payer.Customer.ID, "lost phone"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Fatalf("after another process froze the wallet: %v, want wallet_frozen", err)
		}

		// Through a's own committer: unfrozen by an agent, then frozen again.
		st = &hebao.WalletStatusService{Store: a.db}
		if _, err := st.AgentUnfreeze(ctx, hebao.Staff{ID: "stf_x", Role: hebao.RoleAgent}, payer.Wallet.ID, "checked the ID card in person"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("after unfreezing, with the day's limit used up: %v, want limit_exceeded", err)
		}
		if _, err := st.Freeze(ctx, payer.Customer.ID, "lost phone"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Fatalf("after freezing through the same handle: %v, want wallet_frozen", err)
		}
		mustVerify(t, a.db)
	})
}
