package sqldb

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// benchWallets is how many wallets the service benchmark moves money between.
const benchWallets = 2_000

// BenchmarkTransferService sends transfers between wallets through the whole service
// layer — payment password, payer's limits, payee's cap, idempotency key, both
// movements, two outbox events — the work of POST /v1/transfers without HTTP:
//
//	go test ./sqldb -run '^$' -bench TransferService -benchtime 3s -count 3
func BenchmarkTransferService(b *testing.B) {
	for _, backend := range sqldbtest.Backends(b) {
		b.Run(backend, func(parent *testing.B) {
			for _, callers := range []int{1, 64} {
				var (
					w       *world
					wallets []hebao.Registered
				)
				parent.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
					if w == nil {
						w, wallets = benchWorld(parent, backend)
					}
					ctx := context.Background()
					b0, c0 := w.batches.Load(), w.closures.Load()
					defer func() {
						if n := w.batches.Load() - b0; n > 0 {
							b.ReportMetric(float64(w.closures.Load()-c0)/float64(n), "closures/commit")
						}
					}()
					parallel(b, callers, func(r *randSource) error {
						from := wallets[r.r.IntN(len(wallets))]
						to := wallets[r.r.IntN(len(wallets))]
						for to.Wallet.ID == from.Wallet.ID {
							to = wallets[r.r.IntN(len(wallets))]
						}
						k := hebao.NewID("idem")
						_, err := w.transfers.Send(ctx, hebao.TransferRequest{CustomerID: from.Customer.ID, DeviceID: "dev",
							ToWalletID: to.Wallet.ID, Amount: 1, Memo: "bench", PaymentPassword: payPassword,
							Key: hebao.NewIdempotencyKey(from.Customer.ID+" POST /v1/transfers", k, []byte(k)), Reply: movementReply})
						return err
					})
				})
				if w != nil {
					w.db.Close()
				}
			}
		})
	}
}

// benchWorld opens a new database with benchWallets tier-2 wallets (bank card and
// face check: the common wallet, whose balance cap and limits apply) holding
// ¥100,000 each.
func benchWorld(b *testing.B, backend string) (*world, []hebao.Registered) {
	b.Helper()
	var batches, closures atomic.Int64
	db := openTest(b, Config{URL: sqldbtest.URL(b, backend), DataDir: b.TempDir(), OnCommit: func(n int, _ time.Duration) {
		batches.Add(1)
		closures.Add(int64(n))
	}})
	w := newWorld(b, db, nil)
	w.batches, w.closures = &batches, &closures
	ctx := context.Background()
	out := make([]hebao.Registered, benchWallets)
	svc := &hebao.CustomerService{Store: db, OTP: anyCode{}, Argon2: cheapArgon2}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	sem := make(chan struct{}, 64)
	for i := range out {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := svc.Register(ctx, hebao.Registration{Phone: fmt.Sprintf("139%08d", i), OTP: "123456", Password: "correct horse", DeviceID: "dev"})
			if err != nil {
				errs <- err
				return
			}
			hash := hebao.HashPaymentPassword(w.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), r.Wallet.ID, payPassword)
			err = db.Transact(ctx, func(tx hebao.Tx) error {
				if err := tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: r.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()}); err != nil {
					return err
				}
				return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferFunding, Ref: "bench",
					Postings: hebao.Move(w.funding, r.Wallet.Account, hebao.CNY, 10_000_000)})
			})
			if err != nil {
				errs <- err
			}
			r.Wallet.Tier = 2
			out[i] = r
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if _, err := rawExec(b, db, `UPDATE wallets SET tier = 2`); err != nil {
		b.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	return w, out
}

// BenchmarkOrderPay pays merchant orders from customers' balances through
// OrderService.Pay — the work of POST /v1/orders/{id}/pay after decoding its JSON:
// the idempotency key, the order, the payer's wallet, payment password and limits,
// the ledger transfer, the points it earns (¥25.50: 25 points, a second transfer and
// a bucket change), the payment in the customer's history, the order marked paid
// and the outbox event. Each operation pays another order of one busy merchant, from
// a random one of 2,000 tier-2 wallets:
//
//	go test ./sqldb -run '^$' -bench 'OrderPay/sqlite/callers=64' -benchtime 20000x -count 1
func BenchmarkOrderPay(b *testing.B) {
	for _, backend := range sqldbtest.Backends(b) {
		b.Run(backend, func(parent *testing.B) {
			for _, callers := range []int{1, 64} {
				parent.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
					w, wallets := benchWorld(b, backend)
					defer w.db.Close()
					ctx := context.Background()
					s := newShop(b, w, nil)
					s.orders.Bank = w.banks // as served: card payments and auto top-up on
					orders := make([]string, b.N)
					for start := 0; start < b.N; start += 500 {
						err := w.db.Transact(ctx, func(tx hebao.Tx) error {
							now := tx.Now()
							for i := start; i < min(start+500, b.N); i++ {
								o := hebao.Order{ID: hebao.NewID("ord"), MerchantID: s.merchant.ID, OutTradeNo: fmt.Sprintf("BENCH-%08d", i),
									Kind: hebao.OrderNative, Amount: 2_550, Subject: "bench", Status: hebao.OrderNotPaid,
									CreatedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now}
								if err := tx.CreateOrder(ctx, o); err != nil {
									return err
								}
								orders[i] = o.ID
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
					}
					b0, c0 := w.batches.Load(), w.closures.Load()
					defer func() {
						if n := w.batches.Load() - b0; n > 0 {
							b.ReportMetric(float64(w.closures.Load()-c0)/float64(n), "closures/commit")
						}
					}()
					var next atomic.Int64
					parallelAs(b, callers, "payments/s", func(r *randSource) error {
						payer := wallets[r.r.IntN(len(wallets))]
						id := orders[next.Add(1)-1]
						k := hebao.NewID("idem")
						_, err := s.orders.Pay(ctx, hebao.PayRequest{CustomerID: payer.Customer.ID, DeviceID: "dev", OrderID: id,
							Method: "balance", PaymentPassword: payPassword,
							Key:   hebao.NewIdempotencyKey(payer.Customer.ID+" POST /v1/orders/pay", k, []byte(k)),
							Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) { return movementReply(m) }})
						return err
					})
				})
			}
		})
	}
}
