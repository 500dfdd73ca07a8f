package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchOp is a kind of operation of the measured phase.
type benchOp int

const (
	opTransfer benchOp = iota
	opPay
	opCode
	opRead
	numOps
)

var opNames = [numOps]string{"transfer", "pay", "code", "read"}

const defaultMix = "transfer=20,pay=60,code=10,read=10"

// benchMix is how often each operation is picked: weights[op] out of total.
type benchMix struct {
	weights [numOps]int
	total   int
}

// parseMix reads a mix such as "transfer=20,pay=70,read=10": operation names, each
// at most once, with whole-number weights; the weights need not add up to 100, and
// an operation left out is not run.
func parseMix(s string) (benchMix, error) {
	var m benchMix
	seen := [numOps]bool{}
	if strings.TrimSpace(s) == "" {
		return m, fmt.Errorf("the mix is empty; give operation=weight pairs such as %s", defaultMix)
	}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return m, fmt.Errorf("%q is not operation=weight (as in %s)", part, defaultMix)
		}
		op := benchOp(-1)
		for i, n := range opNames {
			if n == name {
				op = benchOp(i)
			}
		}
		if op < 0 {
			return m, fmt.Errorf("unknown operation %q: the operations are %s", name, strings.Join(opNames[:], ", "))
		}
		if seen[op] {
			return m, fmt.Errorf("%s is given twice", name)
		}
		seen[op] = true
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || n > 1_000_000 {
			return m, fmt.Errorf("the weight of %s must be a whole number from 0 to 1000000, not %q", name, w)
		}
		m.weights[op] = n
		m.total += n
	}
	if m.total == 0 {
		return m, fmt.Errorf("every weight is 0: nothing to run")
	}
	return m, nil
}

// pick returns the operation that r, in [0, total), falls on.
func (m benchMix) pick(r int) benchOp {
	for op, w := range m.weights {
		if r < w {
			return benchOp(op)
		}
		r -= w
	}
	return numOps - 1
}

func (m benchMix) String() string {
	var parts []string
	for op, w := range m.weights {
		if w > 0 {
			parts = append(parts, opNames[op]+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}

// benchResult is what the measured phase saw.
type benchResult struct {
	elapsed   time.Duration
	latencies [numOps][]time.Duration // of the successful operations
	errors    map[string]int64        // failed operations by code
	opErrors  [numOps]int64
}

// measure runs the mix until --duration has passed, --count operations have
// started or ctx ends; operations in flight then finish (so that the check knows
// their outcome) and are counted.
func (b *bench) measure(ctx context.Context) benchResult {
	fmt.Fprintf(b.stderr, "measuring: %s, %d workers, %s\n", b.cfg.mix, b.cfg.concurrency, b.limitText())
	var (
		started, finished atomic.Int64
		wg                sync.WaitGroup
		workers           = make([]benchResult, b.cfg.concurrency)
	)
	start := time.Now()
	var deadline time.Time
	if b.cfg.duration > 0 {
		deadline = start.Add(b.cfg.duration)
	}
	stop := b.progress(func(el time.Duration) string {
		n := finished.Load()
		return fmt.Sprintf("measuring: %d operations, %.0f/s, %s", n, float64(n)/el.Seconds(), el.Round(time.Second))
	})
	work := context.WithoutCancel(ctx) // an interrupt stops new operations, not those in flight
	for w := range workers {
		r := &workers[w]
		r.errors = map[string]int64{}
		wg.Go(func() {
			for ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				if b.cfg.count > 0 && started.Add(1) > b.cfg.count {
					return
				}
				op := b.cfg.mix.pick(mrand.IntN(b.cfg.mix.total))
				t := time.Now()
				err := b.do(work, op)
				d := time.Since(t)
				finished.Add(1)
				if err != nil {
					r.errors[errorCode(err)]++
					r.opErrors[op]++
					continue
				}
				r.latencies[op] = append(r.latencies[op], d)
			}
		})
	}
	wg.Wait()
	stop()
	res := benchResult{elapsed: time.Since(start), errors: map[string]int64{}}
	for _, r := range workers {
		for op := range numOps {
			res.latencies[op] = append(res.latencies[op], r.latencies[op]...)
			res.opErrors[op] += r.opErrors[op]
		}
		for code, n := range r.errors {
			res.errors[code] += n
		}
	}
	fmt.Fprintf(b.stderr, "measured: %d operations in %s\n", finished.Load(), res.elapsed.Round(time.Millisecond))
	return res
}

func (b *bench) limitText() string {
	switch {
	case b.cfg.count > 0 && b.cfg.duration > 0:
		return fmt.Sprintf("%d operations or %s", b.cfg.count, b.cfg.duration)
	case b.cfg.count > 0:
		return fmt.Sprintf("%d operations", b.cfg.count)
	}
	return b.cfg.duration.String()
}

// do runs one operation of kind op with random customers and a random amount.
func (b *bench) do(ctx context.Context, op benchOp) error {
	payer := b.customers[mrand.IntN(len(b.customers))]
	amount := 1 + mrand.Int64N(b.cfg.maxAmount)
	var err error
	switch op {
	case opTransfer:
		err = b.transfer(ctx, payer, amount)
	case opPay:
		err = b.pay(ctx, payer, amount)
	case opCode:
		err = b.codePay(ctx, payer, amount)
	case opRead:
		err = b.read(ctx, payer)
	}
	return err
}

// move sends a request that moves money; one whose outcome stays unknown after
// the retries is counted, for the check to mention.
func (b *bench) move(ctx context.Context, call benchCall) error {
	err := b.client.do(ctx, call)
	if be, ok := err.(*benchError); ok && be.unknown {
		b.uncertain.Add(1)
	}
	return err
}

// transfer sends amount from payer to another bench wallet.
func (b *bench) transfer(ctx context.Context, payer *benchCustomer, amount int64) error {
	payee := payer
	for payee == payer {
		payee = b.customers[mrand.IntN(len(b.customers))]
	}
	var tx struct {
		Status string `json:"status"`
	}
	err := b.move(ctx, benchCall{method: "POST", path: "/v1/transfers", token: payer.token, key: b.key(), retry: true, want: 201, out: &tx,
		body: map[string]any{"to_wallet_id": payee.walletID, "amount": amount, "memo": "bench", "payment_password": benchPayPassword}})
	if err != nil {
		return err
	}
	if tx.Status != "succeeded" {
		return &benchError{code: "transfer_" + tx.Status, detail: "the transfer answered 201 but is " + tx.Status}
	}
	payer.delta.Add(-amount)
	payee.delta.Add(amount)
	return nil
}

// pay has the merchant create an order (customer scans) and payer pay it from
// the balance.
func (b *bench) pay(ctx context.Context, payer *benchCustomer, amount int64) error {
	var order struct {
		ID string `json:"id"`
	}
	err := b.client.do(ctx, benchCall{method: "POST", path: "/v1/merchant/orders", token: b.merchantKey, retry: true, want: 201, replay: 200, out: &order,
		body: map[string]any{"out_trade_no": b.key(), "amount": amount, "subject": "bench"}})
	if err != nil {
		return err
	}
	var paid struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	err = b.move(ctx, benchCall{method: "POST", path: "/v1/orders/" + order.ID + "/pay", token: payer.token, key: b.key(), retry: true, want: 201, out: &paid,
		body: map[string]any{"method": "balance", "payment_password": benchPayPassword}})
	if err != nil {
		return err
	}
	return b.paid(payer, amount, paid.Order.Status)
}

// codePay has payer show a payment code and the merchant's till charge it; past
// the password-free allowance the order waits, and payer confirms it.
func (b *bench) codePay(ctx context.Context, payer *benchCustomer, amount int64) error {
	var code struct {
		Code string `json:"code"`
	}
	err := b.client.do(ctx, benchCall{method: "POST", path: "/v1/payment-codes", token: payer.token, retry: true, want: 201, out: &code})
	if err != nil {
		return err
	}
	var order struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	err = b.move(ctx, benchCall{method: "POST", path: "/v1/merchant/code-payments", token: b.merchantKey, retry: true, want: 201, replay: 200, out: &order,
		body: map[string]any{"out_trade_no": b.key(), "auth_code": code.Code, "amount": amount, "subject": "bench"}})
	if err != nil || order.Status != "USERPAYING" {
		if err != nil {
			return err
		}
		return b.paid(payer, amount, order.Status)
	}
	var paid struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	err = b.move(ctx, benchCall{method: "POST", path: "/v1/payment-codes/confirm", token: payer.token, key: b.key(), retry: true, want: 201, out: &paid,
		body: map[string]any{"order_id": order.ID, "payment_password": benchPayPassword}})
	if err != nil {
		return err
	}
	return b.paid(payer, amount, paid.Order.Status)
}

// paid books a payment whose order ended in status.
func (b *bench) paid(payer *benchCustomer, amount int64, status string) error {
	if status != "SUCCESS" {
		return &benchError{code: "order_" + strings.ToLower(status), detail: "the payment answered success but the order is " + status}
	}
	payer.delta.Add(-amount)
	b.merchantDelta.Add(amount)
	return nil
}

// read looks at the wallet and the first page of its history, as the app's home
// screen does.
func (b *bench) read(ctx context.Context, c *benchCustomer) error {
	err := b.client.do(ctx, benchCall{method: "GET", path: "/v1/wallet", token: c.token, retry: true, want: 200})
	if err != nil {
		return err
	}
	return b.client.do(ctx, benchCall{method: "GET", path: "/v1/transactions?limit=20", token: c.token, retry: true, want: 200})
}

// progress shows line() on one line of a terminal, every quarter second, until
// the returned stop is called. On anything but a terminal it shows nothing.
func (b *bench) progress(line func(elapsed time.Duration) string) (stop func()) {
	if !b.tty {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(b.stderr, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(b.stderr, "\r\033[K%s", line(time.Since(start)))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
