package sqldb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestOTPStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		code := func(id, phone string, p hebao.OTPPurpose, at time.Time) hebao.OTP {
			o := hebao.OTP{ID: id, Phone: phone, Purpose: p, SentAt: at, ExpiresAt: at.Add(5 * time.Minute)}
			copy(o.MAC[:], strings.Repeat(id, 8))
			return o
		}
		a1 := code("otp_a1", "13800138000", hebao.PurposeLogin, t0)
		a2 := code("otp_a2", "13800138000", hebao.PurposeRegister, t0.Add(time.Minute))
		a3 := code("otp_a3", "13800138000", hebao.PurposeLogin, t0.Add(2*time.Minute))
		b1 := code("otp_b1", "13900139000", hebao.PurposeLogin, t0.Add(2*time.Minute))
		transact(t, db, func(tx hebao.Tx) error {
			for _, o := range []hebao.OTP{a1, a2, a3, b1} {
				if err := tx.CreateOTP(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})

		// A closure that fails leaves none of its writes.
		boom := errors.New("boom")
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			if err := tx.CreateOTP(ctx, code("otp_x", "13800138000", hebao.PurposeLogin, t0)); err != nil {
				return err
			}
			if err := tx.AddOTPCheck(ctx, a3.ID); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("failing closure: %v", err)
		}

		var got []hebao.OTP
		var used1, used2, usedMissing bool
		transact(t, db, func(tx hebao.Tx) (err error) {
			if got, err = tx.OTPs(ctx, "13800138000", t0.Add(time.Second)); err != nil {
				return err
			}
			for range 2 {
				if err := tx.AddOTPCheck(ctx, a3.ID); err != nil {
					return err
				}
			}
			if err := tx.AddOTPCheck(ctx, "otp_nope"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				return fmt.Errorf("AddOTPCheck of a missing code: %v, want not_found", err)
			}
			if used1, err = tx.UseOTP(ctx, a3.ID, t0.Add(3*time.Minute)); err != nil {
				return err
			}
			if used2, err = tx.UseOTP(ctx, a3.ID, t0.Add(4*time.Minute)); err != nil {
				return err
			}
			used, err := tx.UseOTP(ctx, "otp_nope", t0)
			usedMissing = used
			return err
		})
		if diff := cmp.Diff([]hebao.OTP{a3, a2}, got); diff != "" {
			t.Errorf("OTPs since t0+1s, newest first (-want +got):\n%s", diff)
		}
		if !used1 || used2 || usedMissing {
			t.Errorf("UseOTP: first %v, second %v, missing %v; want true, false, false", used1, used2, usedMissing)
		}

		transact(t, db, func(tx hebao.Tx) (err error) {
			got, err = tx.OTPs(ctx, "13800138000", t0)
			return err
		})
		a3.Checks, a3.UsedAt = 2, t0.Add(3*time.Minute)
		if diff := cmp.Diff([]hebao.OTP{a3, a2, a1}, got); diff != "" {
			t.Errorf("OTPs after checks and use (-want +got):\n%s", diff)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM otp_phones`); n != 1 {
			t.Errorf("%d phones locked, want 1", n)
		}
	})
}

func transact(t *testing.T, db *DB, fn func(tx hebao.Tx) error) {
	t.Helper()
	if err := db.Transact(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// smsBox is an SMS gateway keeping the codes it was given.
type smsBox struct {
	mu    sync.Mutex
	codes []string
}

var otpCode = regexp.MustCompile(`验证码 (\d{6})，`)

func (b *smsBox) Send(_ context.Context, _, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes = append(b.codes, otpCode.FindStringSubmatch(text)[1])
	return nil
}

func (b *smsBox) last() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.codes[len(b.codes)-1]
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newOTPService(db *DB, box *smsBox, c *fakeClock) *hebao.OTPService {
	return &hebao.OTPService{Store: db, SMS: box, Key: []byte("an OTP key of 32 bytes for tests"), Now: c.Now}
}

// TestOTPServiceOnDB runs a code's life on the real databases: a wrong check counts
// although it fails, a right one spent in a request that fails stays unspent, and
// the code is found nowhere in the database.
func TestOTPServiceOnDB(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		box, c := &smsBox{}, &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		svc := newOTPService(db, box, c)
		const phone = "13800138000"
		var codes []string
		for _, p := range hebao.OTPPurposes() {
			if _, err := svc.Send(ctx, phone, p); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, box.last())
		}
		code := codes[0] // register

		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
		if _, err := svc.Check(ctx, phone, hebao.PurposeRegister, wrong); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
			t.Fatalf("wrong code: %v", err)
		}
		checks := `SELECT checks FROM otp_codes WHERE purpose = 'register'`
		if n := rawInt(t, db, checks); n != 1 {
			t.Fatalf("checks after a wrong code = %d, want 1", n)
		}
		pass, err := svc.Check(ctx, phone, hebao.PurposeRegister, code)
		if err != nil {
			t.Fatal(err)
		}
		refused := hebao.Errorf(hebao.CodeConflict, "phone already registered")
		if err := db.Transact(ctx, func(tx hebao.Tx) error {
			if err := svc.Use(ctx, tx, pass); err != nil {
				return err
			}
			return refused
		}); err != refused {
			t.Fatalf("refused use case: %v", err)
		}
		unused := `SELECT COUNT(*) FROM otp_codes WHERE purpose = 'register' AND used_at IS NULL`
		if n := rawInt(t, db, unused); n != 1 {
			t.Fatal("a code spent by a request that failed")
		}
		transact(t, db, func(tx hebao.Tx) error { return svc.Use(ctx, tx, pass) })
		if n := rawInt(t, db, unused); n != 0 {
			t.Fatal("the code was not spent")
		}
		if err := db.Transact(ctx, func(tx hebao.Tx) error { return svc.Use(ctx, tx, pass) }); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
			t.Fatalf("second Use: %v", err)
		}
		if n := rawInt(t, db, checks); n != 2 {
			t.Errorf("checks = %d, want 2", n)
		}

		for _, code := range codes {
			for _, row := range rawRows(t, db, `SELECT * FROM otp_codes`) {
				if bytes.Contains(row, []byte(code)) {
					t.Errorf("the code %s is stored in otp_codes: %q", code, row)
				}
			}
		}
		if db.Dialect() == "sqlite" {
			db.Close()
			for _, name := range []string{"hebao.db", "hebao.db-wal"} {
				b, _ := os.ReadFile(filepath.Join(db.cfg.DataDir, name))
				for _, code := range codes {
					if bytes.Contains(b, []byte(code)) {
						t.Errorf("the code %s is in the raw bytes of %s", code, name)
					}
				}
			}
		}
	})
}

func atoi(s string) (n int) {
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestOTPConcurrentSendsOnDB sends from 20 goroutines through two handles on one
// database, as two processes would: the 60 s gap lets exactly one through.
func TestOTPConcurrentSendsOnDB(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		box, c := &smsBox{}, &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		for round, phone := range []string{"13800138000", "13900139000", "13700137000"} {
			const n = 20
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				svc := newOTPService(dbs[i%2], box, c)
				wg.Go(func() { _, errs[i] = svc.Send(context.Background(), phone, hebao.PurposeLogin) })
			}
			wg.Wait()
			count := map[string]int{}
			for _, err := range errs {
				count[hebao.ErrorCode(err)]++
			}
			if diff := cmp.Diff(map[string]int{"": 1, "rate_limited": n - 1}, count); diff != "" {
				t.Errorf("round %d: outcomes by code (-want +got):\n%s\nerrors: %v", round, diff, errs)
			}
		}
		if n := rawInt(t, dbs[0], `SELECT COUNT(*) FROM otp_codes`); n != 3 {
			t.Errorf("%d codes stored, want 3", n)
		}
	})
}

// rawRows reads every row of a query straight from the database, each as the text
// of all its values.
func rawRows(t *testing.T, db *DB, q string) [][]byte {
	t.Helper()
	ctx := context.Background()
	var out [][]byte
	add := func(vals []any) {
		var b bytes.Buffer
		for _, v := range vals {
			fmt.Fprintf(&b, "%v|%s|", v, v) // numbers, and text and bytes as they are
		}
		out = append(out, b.Bytes())
	}
	switch b := db.b.(type) {
	case *sqliteDB:
		rs, err := b.r.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			add(vals)
		}
	case *pgDB:
		rs, err := b.pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			vals, err := rs.Values()
			if err != nil {
				t.Fatal(err)
			}
			add(vals)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows", q)
	}
	return out
}
