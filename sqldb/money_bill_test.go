package sqldb

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// openOn opens the suite's database again with clock as the store's clock, so that
// the journal's times (set by the store) are the clock's, like the orders' and
// refunds' (set by the services).
func openOn(t *testing.T, open func(t *testing.T) *DB, clock *fakeClock) *DB {
	t.Helper()
	first := open(t)
	cfg := first.cfg
	first.Close()
	cfg.Now = clock.Now
	return openTest(t, cfg)
}

// billTotals is what a bill says of its day, and what the ledger must say too.
type billTotals struct {
	Payments, PaymentsFen int64
	Refunds, RefundsFen   int64
	Net                   int64
}

// readBill checks a bill's digest and returns its rows (without the header and the
// digest line) and its totals.
func readBill(t *testing.T, b []byte) (rows [][]string, tot billTotals) {
	t.Helper()
	if err := hebao.VerifyBill(b); err != nil {
		t.Fatalf("VerifyBill: %v\n%s", err, b)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("bill number %q: %v", s, err)
		}
		return n
	}
	for _, rec := range recs[1 : len(recs)-1] {
		switch rec[0] {
		case "payment", "refund":
			rows = append(rows, rec)
		case "total_payments":
			tot.Payments, tot.PaymentsFen = num(rec[1]), num(rec[2])
		case "total_refunds":
			tot.Refunds, tot.RefundsFen = num(rec[1]), num(rec[2])
		case "net":
			tot.Net = num(rec[1])
		default:
			t.Fatalf("bill row %q", rec)
		}
	}
	return rows, tot
}

// ledgerTotals computes from the journal alone what account's bill of the China day
// starting at day must say: the count and sum of the payment transfers into it, of
// the refund transfers out of it, and its change over the day.
func ledgerTotals(t *testing.T, db *DB, account hebao.AccountID, day time.Time) billTotals {
	t.Helper()
	const q = `SELECT COUNT(*), CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM postings p JOIN transfers tr ON tr.seq = p.transfer_seq
WHERE p.account_id = ? AND tr.created_at >= ? AND tr.created_at < ?`
	from, to := day.UnixMicro(), day.AddDate(0, 0, 1).UnixMicro()
	var tot billTotals
	var n int64
	rawRow(t, db, q+` AND tr.kind = 'payment'`, []any{int64(account), from, to}, &tot.Payments, &tot.PaymentsFen)
	rawRow(t, db, q+` AND tr.kind = 'refund'`, []any{int64(account), from, to}, &tot.Refunds, &tot.RefundsFen)
	rawRow(t, db, q, []any{int64(account), from, to}, &n, &tot.Net)
	tot.RefundsFen = -tot.RefundsFen
	return tot
}

// TestMerchantBills: two merchants take payments and make partial refunds on both
// sides of a China midnight; each day's bill of each merchant holds only its own
// orders, and its totals are what the ledger's journal says of its settlement
// account over that day.
func TestMerchantBills(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		cst := time.FixedZone("CST", 8*3600)
		day1 := time.Date(2026, 11, 25, 0, 0, 0, 0, cst)
		day2 := day1.AddDate(0, 0, 1)
		clock := &fakeClock{t: day1.Add(20 * time.Hour)}
		w := newWorld(t, openOn(t, open, clock), nil)
		a, b := newShop(t, w, clock), newShop(t, w, clock)
		bills := &hebao.BillService{Store: w.db, Now: clock.Now}
		ctx := context.Background()
		payer := w.customer("13800000501", 2, 50_000)
		other := w.customer("13800000502", 2, 50_000)
		pay := func(s *shop, c hebao.Registered, no string, amount int64) hebao.Order {
			t.Helper()
			o := s.order(no, amount, "")
			paid, err := s.pay(c, o.ID, "k-"+no)
			if err != nil {
				t.Fatalf("pay %s: %v", no, err)
			}
			return paid
		}
		refund := func(s *shop, no, refundNo string, amount int64) {
			t.Helper()
			if _, _, err := s.refund(no, refundNo, amount); err != nil {
				t.Fatalf("refund %s of %s: %v", refundNo, no, err)
			}
		}

		// Day 1, 20:00 to the last second.
		pay(a, payer, "BILL-A-0001", 3_000)
		pay(b, other, "BILL-B-0001", 4_000)
		clock.Add(3*time.Hour + 59*time.Minute + 59*time.Second)
		pay(a, payer, "BILL-A-0002", 2_000) // 23:59:59
		clock.Add(999 * time.Millisecond)
		refund(a, "BILL-A-0001", "BILL-R-0001", 500) // 23:59:59.999
		if _, err := bills.Bill(ctx, a.merchant, "2026-11-25"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Fatalf("day 1's bill before its end: %v, want conflict", err)
		}
		// Day 2, from midnight.
		clock.Add(time.Millisecond)
		if got := clock.Now(); !got.Equal(day2) {
			t.Fatalf("clock at %s, want %s", got, day2)
		}
		pay(a, other, "BILL-A-0003", 1_500) // 00:00:00
		refund(a, "BILL-A-0002", "BILL-R-0002", 700)
		refund(a, "BILL-A-0001", "BILL-R-0003", 1_000)
		refund(b, "BILL-B-0001", "BILL-R-0001", 400) // b's own number space
		clock.Add(time.Hour)
		pay(b, payer, "BILL-B-0002", 600)

		if _, err := bills.Bill(ctx, a.merchant, "2026-11-26"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Fatalf("day 2's bill during day 2: %v, want conflict", err)
		}
		clock.Add(23 * time.Hour)

		want := map[string]map[string]billTotals{
			"2026-11-25": {
				a.merchant.ID: {Payments: 2, PaymentsFen: 5_000, Refunds: 1, RefundsFen: 500, Net: 4_500},
				b.merchant.ID: {Payments: 1, PaymentsFen: 4_000, Net: 4_000},
			},
			"2026-11-26": {
				a.merchant.ID: {Payments: 1, PaymentsFen: 1_500, Refunds: 2, RefundsFen: 1_700, Net: -200},
				b.merchant.ID: {Payments: 1, PaymentsFen: 600, Refunds: 1, RefundsFen: 400, Net: 200},
			},
		}
		for date, day := range map[string]time.Time{"2026-11-25": day1, "2026-11-26": day2} {
			for _, s := range []*shop{a, b} {
				bill, err := bills.Bill(ctx, s.merchant, date)
				if err != nil {
					t.Fatalf("bill of %s for %s: %v", date, s.merchant.ID, err)
				}
				rows, got := readBill(t, bill)
				if d := cmp.Diff(want[date][s.merchant.ID], got); d != "" {
					t.Errorf("%s's bill of %s (-want +got):\n%s\n%s", s.merchant.ID, date, d, bill)
				}
				if d := cmp.Diff(ledgerTotals(t, w.db, s.merchant.Account, day), got); d != "" {
					t.Errorf("%s's bill of %s against the ledger (-ledger +bill):\n%s\n%s", s.merchant.ID, date, d, bill)
				}
				// Only the merchant's own orders, each on its day, in time order.
				var last string
				for _, row := range rows {
					o, err := s.orders.Get(ctx, s.merchant, row[3])
					if err != nil || o.ID != row[2] {
						t.Errorf("%s's bill of %s has order %s (%s), not its own: %v", s.merchant.ID, date, row[2], row[3], err)
					}
					if !strings.HasPrefix(row[1], date+"T") || row[1] < last {
						t.Errorf("%s's bill of %s: row at %s after %s", s.merchant.ID, date, row[1], last)
					}
					last = row[1]
				}
			}
		}

		// The days' nets add up to the settlement balances.
		for _, s := range []*shop{a, b} {
			if got, want := s.merchantBalance(), want["2026-11-25"][s.merchant.ID].Net+want["2026-11-26"][s.merchant.ID].Net; got != want {
				t.Errorf("%s's balance %d, want %d", s.merchant.ID, got, want)
			}
		}
		mustVerify(t, w.db)
	})
}

// TestBillQueryPlans: a bill reads its merchant's day through the indexes made for
// it, not by scanning every order and refund (checked on SQLite, whose plans are
// stable on small tables).
func TestBillQueryPlans(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	for q, index := range map[string]string{ordersPaid: "orders_paid", refundsCreated: "refunds_day"} {
		var plan []string
		rawQuery(t, db, "EXPLAIN QUERY PLAN "+q, []any{"mch_x", int64(1), int64(2)}, func(scan func(...any) error) error {
			var id, parent, unused int64
			var detail string
			err := scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
			return err
		})
		if s := strings.Join(plan, "; "); !strings.Contains(s, "USING INDEX "+index) {
			t.Errorf("plan of %s:\n%s\nwant it to use %s", q, s, index)
		}
	}
}
