package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// benchPassword and benchPayPassword are every bench wallet's passwords.
	benchPassword    = "bench-Passw0rd"
	benchPayPassword = "528471"
)

// bench is one run of `hebao bench`.
type bench struct {
	cfg    benchConfig
	client *benchClient
	stderr io.Writer
	tty    bool   // stderr is a terminal: show progress on one line
	run    string // this run's random id, in its keys and order numbers
	seq    atomic.Int64

	merchantKey   string
	merchantStart int64
	merchantDelta atomic.Int64 // what successful payments added

	customers []*benchCustomer
	// uncertain counts money operations whose outcome the bench could not learn.
	uncertain atomic.Int64
}

// benchCustomer is one wallet the bench opened.
type benchCustomer struct {
	phone    string
	token    string
	walletID string
	server   string // where it was opened: the SMS inbox is per process
	// start is balance plus red packet when the measured phase began; delta what
	// the successful operations since moved in (+) and out (−).
	start int64
	delta atomic.Int64
}

func newBench(cfg benchConfig, stderr io.Writer) *bench {
	id := make([]byte, 4)
	rand.Read(id)
	conns := max(cfg.concurrency, cfg.setupConcurrency)
	return &bench{cfg: cfg, client: newBenchClient(cfg.urls, conns, cfg.timeout), stderr: stderr,
		tty: isTerminal(stderr), run: hex.EncodeToString(id)}
}

// key returns a new Idempotency-Key or out_trade_no, unique to this run.
func (b *bench) key() string {
	return "B" + b.run + "-" + strconv.FormatInt(b.seq.Add(1), 10)
}

// staffToken signs the admin in.
func (b *bench) staffToken(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := b.client.do(ctx, benchCall{method: "POST", path: "/v1/staff/sessions", want: 201, out: &out, retry: true,
		body: map[string]string{"username": b.cfg.adminUser, "password": b.cfg.adminPassword}})
	return out.Token, err
}

// merchant takes the merchant of --merchant-key, or creates one for this run, so
// that no one else's payments land in the balance the check counts.
func (b *bench) merchant(ctx context.Context, admin string) error {
	b.merchantKey = b.cfg.merchantKey
	if b.merchantKey == "" {
		var out struct {
			APIKey string `json:"api_key"`
		}
		err := b.client.do(ctx, benchCall{method: "POST", path: "/v1/admin/merchants", token: admin, want: 201, out: &out,
			body: map[string]string{"name": "hebao bench " + b.run}})
		if err != nil {
			return err
		}
		b.merchantKey = out.APIKey
	}
	return nil
}

// setup opens the wallets, --setup-concurrency at a time, and shows progress.
func (b *bench) setup(ctx context.Context) error {
	n := b.cfg.customers
	b.customers = make([]*benchCustomer, n)
	fmt.Fprintf(b.stderr, "set-up: opening %d wallets on %d server(s)…\n", n, len(b.cfg.urls))
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		once       sync.Once
		first      error
		wg         sync.WaitGroup
	)
	stop := b.progress(func(el time.Duration) string {
		d := done.Load()
		return fmt.Sprintf("set-up: %d/%d wallets ready, %.0f/s, %s", d, n, float64(d)/el.Seconds(), el.Round(time.Second))
	})
	for range min(b.cfg.setupConcurrency, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := b.openWallet(ctx, b.cfg.urls[i%len(b.cfg.urls)])
				if err != nil {
					once.Do(func() { first = fmt.Errorf("wallet %d: %w", i+1, err); cancel() })
					return
				}
				b.customers[i] = c
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stop()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(b.stderr, "set-up: %d wallets ready in %s (%.1f/s)\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return nil
}

// openWallet opens one wallet on server, the way the app does: a registration
// code, the wallet, a real name, a sandbox card, a payment password, a top-up.
// A phone or ID number that another run took is replaced by a new random one.
func (b *bench) openWallet(ctx context.Context, server string) (*benchCustomer, error) {
	c := &benchCustomer{server: server}
	call := func(method, path string, body any, want int, out any) error {
		return b.client.do(ctx, benchCall{server: server, method: method, path: path, token: c.token, body: body, want: want, out: out, retry: method == "GET"})
	}
	var err error
	for range 5 {
		c.phone = randomPhone()
		var code string
		if code, err = b.smsCode(ctx, server, c.phone, "register"); err != nil {
			if errorCode(err) == "rate_limited" {
				continue // a phone another run used a moment ago
			}
			return nil, err
		}
		var reg struct {
			WalletID string `json:"wallet_id"`
			Token    string `json:"token"`
		}
		err = call("POST", "/v1/customers", map[string]string{"phone": c.phone, "otp": code, "password": benchPassword, "device_id": "bench-" + c.phone}, 201, &reg)
		if errorCode(err) == "conflict" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		c.token, c.walletID = reg.Token, reg.WalletID
		break
	}
	if c.token == "" {
		return nil, fmt.Errorf("register: no free phone number in 5 tries: %w", err)
	}
	name := randomName()
	for range 5 {
		err = call("POST", "/v1/wallet/real-name", map[string]string{"name": name, "id_number": randomIDNumber()}, 200, nil)
		if errorCode(err) != "conflict" {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("real name: %w", err)
	}
	code, err := b.smsCode(ctx, server, c.phone, "bind_card")
	if err != nil {
		return nil, err
	}
	var card struct {
		ID string `json:"id"`
	}
	if err := call("POST", "/v1/cards", map[string]string{"card_number": randomCardNumber(), "holder_name": name, "otp": code}, 201, &card); err != nil {
		return nil, fmt.Errorf("bind card: %w", err)
	}
	if code, err = b.smsCode(ctx, server, c.phone, "set_payment_password"); err != nil {
		return nil, err
	}
	if err := call("PUT", "/v1/wallet/payment-password", map[string]string{"password": benchPayPassword, "otp": code}, 204, nil); err != nil {
		return nil, fmt.Errorf("payment password: %w", err)
	}
	return c, b.topup(ctx, c, card.ID)
}

// topup tops the wallet up from its card and waits until the bank said yes.
func (b *bench) topup(ctx context.Context, c *benchCustomer, cardID string) error {
	var tx struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	err := b.client.do(ctx, benchCall{server: c.server, method: "POST", path: "/v1/topups", token: c.token, key: b.key(), retry: true,
		body: map[string]any{"card_id": cardID, "amount": b.cfg.topup}, want: 202, out: &tx})
	if err != nil {
		return fmt.Errorf("top-up: %w", err)
	}
	for wait := 5 * time.Millisecond; tx.Status == "pending"; wait = min(2*wait, 500*time.Millisecond) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if err := b.client.do(ctx, benchCall{server: c.server, method: "GET", path: "/v1/topups/" + tx.ID, token: c.token, want: 200, out: &tx, retry: true}); err != nil {
			return fmt.Errorf("top-up: %w", err)
		}
	}
	if tx.Status != "succeeded" {
		return fmt.Errorf("top-up %s ended %s", tx.ID, tx.Status)
	}
	return nil
}

// smsCodeRE finds the code in the text of an SMS (hebao.OTPText).
var smsCodeRE = regexp.MustCompile(`验证码 (\d{6})`)

// smsCode asks server for a code for purpose and reads it from its development
// SMS inbox (GET /v1/dev/sms, only under --dev; newest message first).
func (b *bench) smsCode(ctx context.Context, server, phone, purpose string) (string, error) {
	err := b.client.do(ctx, benchCall{server: server, method: "POST", path: "/v1/otp", want: 202,
		body: map[string]string{"phone": phone, "purpose": purpose}})
	if err != nil {
		return "", fmt.Errorf("SMS code for %s: %w", purpose, err)
	}
	var inbox struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	err = b.client.do(ctx, benchCall{server: server, method: "GET", path: "/v1/dev/sms?phone=" + phone, want: 200, out: &inbox, retry: true})
	if errorCode(err) == "not_found" {
		return "", fmt.Errorf("%s has no development SMS inbox (GET /v1/dev/sms): the bench opens wallets with SMS codes, so the server must run with --dev", server)
	}
	if err != nil {
		return "", fmt.Errorf("SMS inbox: %w", err)
	}
	if len(inbox.Messages) == 0 {
		return "", fmt.Errorf("the SMS inbox of %s is empty after a %s code was sent", phone, purpose)
	}
	m := smsCodeRE.FindStringSubmatch(inbox.Messages[0].Text)
	if m == nil {
		return "", fmt.Errorf("no code in the SMS %q", inbox.Messages[0].Text)
	}
	return m[1], nil
}

// snapshot reads every wallet's balance and red packet, and the merchant's
// balance, as the measured phase begins. A wallet whose balance is not exactly its
// top-up is an error: the top-up was not credited exactly once.
func (b *bench) snapshot(ctx context.Context) error {
	bal, err := b.balances(ctx)
	if err != nil {
		return err
	}
	for i, c := range b.customers {
		if bal[i].balance != b.cfg.topup {
			return fmt.Errorf("wallet %s holds %d fen after a top-up of %d", c.walletID, bal[i].balance, b.cfg.topup)
		}
		c.start = bal[i].balance + bal[i].promo
	}
	b.merchantStart, err = b.merchantBalance(ctx)
	return err
}

// walletBalance is what GET /v1/wallet says a wallet holds.
type walletBalance struct {
	balance int64
	promo   int64
}

// balances reads every bench wallet, concurrently.
func (b *bench) balances(ctx context.Context) ([]walletBalance, error) {
	out := make([]walletBalance, len(b.customers))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range min(b.cfg.concurrency, len(b.customers)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(b.customers) {
					return
				}
				var w struct {
					Balance      int64 `json:"balance"`
					PromoBalance int64 `json:"promo_balance"`
				}
				err := b.client.do(ctx, benchCall{method: "GET", path: "/v1/wallet", token: b.customers[i].token, want: 200, out: &w, retry: true})
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("GET /v1/wallet: %w", err)
					}
					mu.Unlock()
					return
				}
				out[i] = walletBalance{w.Balance, w.PromoBalance}
			}
		})
	}
	wg.Wait()
	return out, first
}

// merchantBalance reads the merchant's settlement balance.
func (b *bench) merchantBalance(ctx context.Context) (int64, error) {
	var out struct {
		Balance int64 `json:"balance"`
	}
	err := b.client.do(ctx, benchCall{method: "GET", path: "/v1/merchant/balance", token: b.merchantKey, want: 200, out: &out, retry: true})
	if err != nil {
		return 0, fmt.Errorf("GET /v1/merchant/balance: %w", err)
	}
	return out.Balance, nil
}

// randomPhone returns a random mobile number of the 19x range.
func randomPhone() string {
	return fmt.Sprintf("19%09d", mrand.IntN(1_000_000_000))
}

// benchProvinces are province codes ParseIDNumber accepts.
var benchProvinces = []string{"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
	"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}

// randomIDNumber returns a random resident ID number with a valid check character
// (GB 11643): a province, four digits, a birth date from 1960 to 2004, three digits.
func randomIDNumber() string {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, mrand.IntN(45*365))
	s := fmt.Sprintf("%s%04d%s%03d", benchProvinces[mrand.IntN(len(benchProvinces))], mrand.IntN(10_000), birth.Format("20060102"), mrand.IntN(1000))
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

// randomCardNumber returns a random Luhn-valid ICBC debit card number (BIN 622202)
// that the sandbox bank accepts at once: not ending in 0002, 0051, 0119 or 0259.
func randomCardNumber() string {
	for {
		s := fmt.Sprintf("622202%09d", mrand.IntN(1_000_000_000))
		s += strconv.Itoa(luhnDigit(s))
		switch s[len(s)-4:] {
		case "0002", "0051", "0119", "0259":
			continue
		}
		return s
	}
}

// luhnDigit is the check digit that makes digits+it pass the Luhn check.
func luhnDigit(digits string) int {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled: it will be second from the right
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

var (
	benchSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	benchGiven    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
)

// randomName returns a random two- or three-character Chinese name.
func randomName() string {
	n := []rune{benchSurnames[mrand.IntN(len(benchSurnames))], benchGiven[mrand.IntN(len(benchGiven))]}
	if mrand.IntN(2) == 0 {
		n = append(n, benchGiven[mrand.IntN(len(benchGiven))])
	}
	return string(n)
}
