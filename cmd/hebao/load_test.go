package main

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// load is a concurrent load of transfers, order payments and refunds over the public
// API of several servers, keeping the book of every operation a server acknowledged
// (answered 2xx), for the checks afterwards. The wallets are a bench's
// (bench_setup.go), opened through the API as the app opens them; every money request
// carries a key of its own, and is sent again with the same key to another server
// when its server gives no answer.
type load struct {
	b         *bench
	f         *fleet
	notifyURL string // every order's webhook receiver

	mu         sync.Mutex
	transfers  []transferRec
	orders     []*orderRec
	refunds    []refundRec
	refundable []*orderRec // paid and not yet refunded
	problems   []string    // answers the rules do not allow
	counts     map[string]int
}

type transferRec struct {
	from, to int // customers
	amount   int64
	id       string // the payer's transaction
}

type orderRec struct {
	outTradeNo, id string
	amount         int64
	payer          int    // the customer who paid it, -1 while unpaid
	txID           string // the payer's transaction
	refunded       int64  // by acknowledged refunds
}

type refundRec struct {
	outRefundNo string
	order       *orderRec
	amount      int64
}

func newLoad(b *bench, f *fleet, notifyURL string) *load {
	return &load{b: b, f: f, notifyURL: notifyURL, counts: map[string]int{}}
}

// owed is how many webhook deliveries the acknowledged operations owe: one per paid
// order and one per refund.
func (l *load) owed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return paidCount(l.orders) + len(l.refunds)
}

// done reports whether each of the kinds of operations succeeded n times or more.
func (l *load) done(kinds []string, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range kinds {
		if l.counts[k] < n {
			return false
		}
	}
	return true
}

func (l *load) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) < 50 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

func (l *load) count(what string) {
	l.mu.Lock()
	l.counts[what]++
	l.mu.Unlock()
}

// run runs workers until stop is closed; each operation started is finished.
func (l *load) run(workers int, stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				l.one(ctx)
				cancel()
			}
		})
	}
	return wg.Wait
}

// one runs one operation, picked at random.
func (l *load) one(ctx context.Context) {
	switch r := mrand.IntN(100); {
	case r < 35:
		l.transfer(ctx)
	case r < 60:
		l.pay(ctx)
	case r < 75:
		l.payRace(ctx)
	case r < 85:
		l.payTwice(ctx)
	default:
		if !l.refundRace(ctx) {
			l.pay(ctx)
		}
	}
}

// pick returns n different customers at random.
func (l *load) pick(n int) []int {
	return mrand.Perm(len(l.b.customers))[:n]
}

// transfer sends 1 to 300 fen from one customer to another.
func (l *load) transfer(ctx context.Context) {
	p := l.pick(2)
	from, to := l.b.customers[p[0]], l.b.customers[p[1]]
	amount := 1 + mrand.Int64N(300)
	a, err := l.f.send(ctx, mrand.IntN(2), call{method: "POST", path: "/v1/transfers", token: from.token, key: l.b.key(),
		body: map[string]any{"to_wallet_id": to.walletID, "amount": amount, "memo": "load", "payment_password": benchPayPassword}})
	switch {
	case err != nil:
		l.problem("transfer: %v", err)
	case a.status == http.StatusCreated:
		var tx struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		}
		if json.Unmarshal(a.body, &tx) != nil || tx.Status != "succeeded" || tx.Amount != amount || tx.ID == "" {
			l.problem("transfer answered %s", a)
			return
		}
		from.delta.Add(-amount)
		to.delta.Add(amount)
		l.mu.Lock()
		l.transfers = append(l.transfers, transferRec{p[0], p[1], amount, tx.ID})
		l.counts["transfer"]++
		l.mu.Unlock()
	default:
		l.problem("transfer: %s", a)
	}
}

// order has the merchant create an order of 10 to 500 fen whose webhooks go to the
// test's receiver.
func (l *load) order(ctx context.Context) *orderRec {
	o := &orderRec{outTradeNo: l.b.key(), amount: 10 + mrand.Int64N(491), payer: -1}
	a, err := l.f.send(ctx, mrand.IntN(2), call{method: "POST", path: "/v1/merchant/orders", token: l.b.merchantKey,
		body: map[string]any{"out_trade_no": o.outTradeNo, "amount": o.amount, "subject": "load", "notify_url": l.notifyURL}})
	if err != nil {
		l.problem("create order: %v", err)
		return nil
	}
	var got struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	// 200: the same order again, after a server that made it died before answering.
	if (a.status != http.StatusCreated && a.status != http.StatusOK) || json.Unmarshal(a.body, &got) != nil || got.Status != "NOTPAY" {
		l.problem("create order: %s", a)
		return nil
	}
	o.id = got.ID
	l.mu.Lock()
	l.orders = append(l.orders, o)
	l.mu.Unlock()
	return o
}

func (l *load) payCall(customer int, o *orderRec, key string) call {
	return call{method: "POST", path: "/v1/orders/" + o.id + "/pay", token: l.b.customers[customer].token, key: key,
		body: map[string]any{"method": "balance", "payment_password": benchPayPassword}}
}

// paid books the payment a 201 answer acknowledged; false if the answer is not one.
func (l *load) paid(o *orderRec, customer int, a answer) bool {
	var p struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
		Transaction struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		} `json:"transaction"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &p) != nil || p.Order.Status != "SUCCESS" ||
		p.Transaction.Status != "succeeded" || p.Transaction.Amount != o.amount {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.payer >= 0 {
		l.problems = append(l.problems, fmt.Sprintf("order %s acknowledged as paid twice: by customers %d and %d", o.outTradeNo, o.payer, customer))
		return true
	}
	o.payer, o.txID = customer, p.Transaction.ID
	l.refundable = append(l.refundable, o)
	l.b.customers[customer].delta.Add(-o.amount)
	l.b.merchantDelta.Add(o.amount)
	return true
}

// pay has the merchant create an order and a customer pay it.
func (l *load) pay(ctx context.Context) {
	o := l.order(ctx)
	if o == nil {
		return
	}
	c := l.pick(1)[0]
	a, err := l.f.send(ctx, mrand.IntN(2), l.payCall(c, o, l.b.key()))
	switch {
	case err != nil:
		l.problem("pay: %v", err)
	case !l.paid(o, c, a):
		l.problem("pay %s: %s", o.outTradeNo, a)
	default:
		l.count("pay")
	}
}

// both sends two calls at once, the first to server 0 and the second to server 1.
func (l *load) both(ctx context.Context, c0, c1 call) (a [2]answer, err [2]error) {
	var wg sync.WaitGroup
	for i, c := range []call{c0, c1} {
		wg.Go(func() { a[i], err[i] = l.f.send(ctx, i, c) })
	}
	wg.Wait()
	return a, err
}

// payRace has two customers pay one order at the same moment, each through another
// server: one pays, the other is told order_already_paid.
func (l *load) payRace(ctx context.Context) {
	o := l.order(ctx)
	if o == nil {
		return
	}
	p := l.pick(2)
	a, err := l.both(ctx, l.payCall(p[0], o, l.b.key()), l.payCall(p[1], o, l.b.key()))
	if err[0] != nil || err[1] != nil {
		l.problem("pay race: %v, %v", err[0], err[1])
		return
	}
	won := 0
	for i := range a {
		switch {
		case l.paid(o, p[i], a[i]):
			won++
		case a[i].status != http.StatusUnprocessableEntity || a[i].code != "order_already_paid":
			l.problem("pay race for %s: %s", o.outTradeNo, a[i])
		}
	}
	if won != 1 {
		l.problem("pay race for %s: %d payments succeeded (%s; %s)", o.outTradeNo, won, a[0], a[1])
		return
	}
	l.count("pay race")
}

// payTwice has one customer send one payment twice at the same moment, with one
// Idempotency-Key, through both servers: both get the one payment's answer.
func (l *load) payTwice(ctx context.Context) {
	o := l.order(ctx)
	if o == nil {
		return
	}
	c, key := l.pick(1)[0], l.b.key()
	a, err := l.both(ctx, l.payCall(c, o, key), l.payCall(c, o, key))
	if err[0] != nil || err[1] != nil {
		l.problem("pay twice: %v, %v", err[0], err[1])
		return
	}
	if a[0].status != http.StatusCreated || string(a[0].body) != string(a[1].body) || a[0].status != a[1].status {
		l.problem("pay twice with one key, %s: the answers differ or failed: %s; %s", o.outTradeNo, a[0], a[1])
		return
	}
	if !l.paid(o, c, a[0]) {
		l.problem("pay twice %s: %s", o.outTradeNo, a[0])
		return
	}
	l.count("pay twice, one key")
}

// refundRace refunds a paid order three times at once, through both servers, each
// time 40% of it (rounded up): two fit (orders are 10 fen or more), the third is
// refund_exceeds_paid. It reports false when no order was there to refund.
func (l *load) refundRace(ctx context.Context) bool {
	l.mu.Lock()
	if len(l.refundable) == 0 {
		l.mu.Unlock()
		return false
	}
	k := mrand.IntN(len(l.refundable))
	o := l.refundable[k]
	l.refundable[k] = l.refundable[len(l.refundable)-1]
	l.refundable = l.refundable[:len(l.refundable)-1]
	l.mu.Unlock()

	part := (2*o.amount + 4) / 5
	var (
		wg   sync.WaitGroup
		nos  [3]string
		ans  [3]answer
		errs [3]error
	)
	for i := range nos {
		nos[i] = l.b.key()
		wg.Go(func() {
			ans[i], errs[i] = l.f.send(ctx, i, call{method: "POST", path: "/v1/merchant/refunds", token: l.b.merchantKey,
				body: map[string]any{"out_trade_no": o.outTradeNo, "out_refund_no": nos[i], "amount": part}})
		})
	}
	wg.Wait()
	ok := 0
	for i, a := range ans {
		var rf struct {
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		}
		switch {
		case errs[i] != nil:
			l.problem("refund: %v", errs[i])
		case (a.status == http.StatusCreated || a.status == http.StatusOK) && json.Unmarshal(a.body, &rf) == nil && rf.Status == "SUCCESS" && rf.Amount == part:
			ok++
			l.b.customers[o.payer].delta.Add(part)
			l.b.merchantDelta.Add(-part)
			l.mu.Lock()
			o.refunded += part
			l.refunds = append(l.refunds, refundRec{nos[i], o, part})
			l.mu.Unlock()
		case a.status != http.StatusUnprocessableEntity || a.code != "refund_exceeds_paid":
			l.problem("refund of %s: %s", o.outTradeNo, a)
		}
	}
	if want := min(3, int(o.amount/part)); ok != want {
		l.problem("three refunds of %d fen of order %s (%d fen) at once: %d succeeded, want %d", part, o.outTradeNo, o.amount, ok, want)
	}
	l.count("refund race")
	return true
}
