package hebao_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

var billZone = time.FixedZone("CST", 8*3600)

// billShop is an in-memory store holding merchants' paid orders and refunds, written
// directly with the times a test needs, and a bill service on a fake clock.
type billShop struct {
	t     *testing.T
	store *inmem.Store
	clock *clock
	bills *hebao.BillService
	n     int
}

func newBillShop(t *testing.T, now time.Time) *billShop {
	c := &clock{t: now}
	st := inmem.New(c.Now)
	return &billShop{t: t, store: st, clock: c, bills: &hebao.BillService{Store: st, Now: c.Now}}
}

// paid stores an order of merchant's, paid at at.
func (s *billShop) paid(merchant, id, no string, amount int64, subject string, at time.Time) hebao.Order {
	s.t.Helper()
	o := hebao.Order{ID: id, MerchantID: merchant, OutTradeNo: no, Kind: hebao.OrderNative, Amount: amount, Subject: subject,
		Status: hebao.OrderSuccess, CustomerID: "cus_payer", WalletID: "wal_payer", Method: "balance",
		CreatedAt: at.Add(-time.Minute), ExpiresAt: at.Add(time.Hour), PaidAt: at, UpdatedAt: at}
	if err := s.store.Transact(context.Background(), func(tx hebao.Tx) error { return tx.CreateOrder(context.Background(), o) }); err != nil {
		s.t.Fatal(err)
	}
	return o
}

// refunded stores a refund of o, created at at.
func (s *billShop) refunded(o hebao.Order, id, no string, amount int64, reason string, at time.Time) {
	s.t.Helper()
	r := hebao.Refund{ID: id, MerchantID: o.MerchantID, OrderID: o.ID, OutTradeNo: o.OutTradeNo, OutRefundNo: no, Amount: amount,
		Reason: reason, WalletID: o.WalletID, CreatedAt: at}
	if err := s.store.Transact(context.Background(), func(tx hebao.Tx) error { return tx.CreateRefund(context.Background(), r) }); err != nil {
		s.t.Fatal(err)
	}
}

func (s *billShop) bill(merchant, date string) ([]byte, error) {
	return s.bills.Bill(context.Background(), hebao.Merchant{ID: merchant}, date)
}

// withDigest appends the digest line a bill with these rows must end with.
func withDigest(rows string) string {
	sum := sha256.Sum256([]byte(rows))
	return rows + "sha256," + hex.EncodeToString(sum[:]) + "\n"
}

const billHeader = "type,time,order_id,out_trade_no,refund_id,out_refund_no,amount_fen,amount_yuan,payer_wallet_id,subject,reason\n"

// TestBill: a day's payments and refunds, in time order, with a refund of an order
// paid the day before, totals, a digest, and formulas defused.
func TestBill(t *testing.T) {
	s := newBillShop(t, time.Date(2026, 11, 26, 9, 0, 0, 0, billZone))
	d := func(day, h, m, sec int) time.Time { return time.Date(2026, 11, day, h, m, sec, 0, billZone) }
	old := s.paid("mch_a", "ord_old", "OLD-000001", 5_000, "yesterday's tea", d(24, 20, 0, 0))
	o1 := s.paid("mch_a", "ord_1", "T-000001", 1_234, "beef noodles", d(25, 8, 30, 0))
	s.refunded(old, "rfd_1", "R-000001", 2_000, "=HYPERLINK(\"http://evil.example\")", d(25, 9, 0, 0))
	s.paid("mch_a", "ord_2", "T-000002", 99_999_999, "+1 dumplings, \"large\"", d(25, 12, 0, 0))
	s.refunded(o1, "rfd_2", "R-000002", 34, "-too salty", d(25, 13, 0, 0))
	s.paid("mch_a", "ord_3", "T-000003", 1, "@tea\t", d(25, 23, 59, 59))
	// Another merchant's day, and this merchant's next day, are not in the bill.
	s.refunded(s.paid("mch_b", "ord_b", "T-000001", 700, "not yours", d(25, 10, 0, 0)), "rfd_b", "R-000001", 700, "", d(25, 11, 0, 0))
	s.paid("mch_a", "ord_4", "T-000004", 10, "tomorrow", d(26, 0, 0, 0))

	got, err := s.bill("mch_a", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	want := withDigest(billHeader +
		"payment,2026-11-25T08:30:00+08:00,ord_1,T-000001,,,1234,12.34,wal_payer,beef noodles,\n" +
		"refund,2026-11-25T09:00:00+08:00,ord_old,OLD-000001,rfd_1,R-000001,2000,20.00,wal_payer,yesterday's tea,\"'=HYPERLINK(\"\"http://evil.example\"\")\"\n" +
		"payment,2026-11-25T12:00:00+08:00,ord_2,T-000002,,,99999999,999999.99,wal_payer,\"'+1 dumplings, \"\"large\"\"\",\n" +
		"refund,2026-11-25T13:00:00+08:00,ord_1,T-000001,rfd_2,R-000002,34,0.34,wal_payer,beef noodles,'-too salty\n" +
		"payment,2026-11-25T23:59:59+08:00,ord_3,T-000003,,,1,0.01,wal_payer,'@tea\t,\n" +
		"total_payments,3,100001234\n" +
		"total_refunds,2,2034\n" +
		"net,99999200\n")
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Fatalf("bill (-want +got):\n%s", d)
	}
	if err := hebao.VerifyBill(got); err != nil {
		t.Errorf("VerifyBill: %v", err)
	}
	// Any changed byte, a cut, or a missing digest is caught.
	for i := range got {
		b := bytes.Clone(got)
		b[i] ^= 0x01
		if hebao.VerifyBill(b) == nil {
			t.Fatalf("VerifyBill accepted the bill with byte %d changed", i)
		}
	}
	for _, b := range [][]byte{nil, got[:len(got)-1], got[:bytes.Index(got, []byte("total_payments"))],
		[]byte(strings.Replace(string(got), "sha256,", "sha512,", 1))} {
		if hebao.ErrorCode(hebao.VerifyBill(b)) != hebao.CodeInvalidRequest {
			t.Errorf("VerifyBill(%.40q…) passed, want invalid_request", b)
		}
	}
	// It is a CSV a reader takes back with every cell as written.
	recs, err := readBill(got)
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[2][10]; got != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("reason cell %q", got)
	}
	// A bill does not change once made.
	if again, err := s.bill("mch_a", "2026-11-25"); err != nil || !bytes.Equal(again, got) {
		t.Errorf("the same bill again: %v, changed %v", err, !bytes.Equal(again, got))
	}
}

func readBill(b []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// TestBillT1: a day's bill exists from the first microsecond of the next day in
// China time, and not before.
func TestBillT1(t *testing.T) {
	s := newBillShop(t, time.Date(2026, 11, 25, 23, 59, 59, 999_999_000, billZone))
	s.paid("mch_a", "ord_1", "T-000001", 100, "tea", time.Date(2026, 11, 25, 12, 0, 0, 0, billZone))
	for _, date := range []string{"2026-11-25", "2026-11-26", "2027-01-01", "9999-12-31"} {
		_, err := s.bill("mch_a", date)
		if e := hebao.ErrorOf(err); e.Code != hebao.CodeConflict || e.Kind != hebao.KindConflict {
			t.Fatalf("bill of %s at %s: %v, want conflict (409)", date, s.clock.Now(), err)
		}
		if date == "2026-11-25" && !strings.Contains(err.Error(), "ready from 2026-11-26T00:00:00+08:00") {
			t.Errorf("the refusal does not say when the bill is ready: %v", err)
		}
	}
	s.clock.Add(time.Microsecond)
	b, err := s.bill("mch_a", "2026-11-25")
	if err != nil {
		t.Fatalf("bill at %s: %v", s.clock.Now(), err)
	}
	if !bytes.Contains(b, []byte("\ntotal_payments,1,100\n")) {
		t.Errorf("bill:\n%s", b)
	}
	if _, err := s.bill("mch_a", "2026-11-26"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("bill of the day just begun: %v, want conflict", err)
	}
}

// TestBillDays: a payment at 23:59:59 and one at 00:00:00 China time fall on two
// days, although both are on one UTC day.
func TestBillDays(t *testing.T) {
	s := newBillShop(t, time.Date(2026, 12, 1, 0, 0, 0, 0, billZone))
	s.paid("mch_a", "ord_1", "T-000001", 100, "late", time.Date(2026, 11, 29, 23, 59, 59, 0, billZone))
	s.paid("mch_a", "ord_2", "T-000002", 200, "early", time.Date(2026, 11, 30, 0, 0, 0, 0, billZone))
	for date, want := range map[string]string{"2026-11-29": "ord_1", "2026-11-30": "ord_2"} {
		b, err := s.bill("mch_a", date)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readBill(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 6 || recs[1][2] != want {
			t.Errorf("bill of %s:\n%s\nwant one payment, %s", date, b, want)
		}
	}
}

// TestBillEmpty: a day without payments or refunds still has a bill: the header,
// zero totals and the digest.
func TestBillEmpty(t *testing.T) {
	s := newBillShop(t, time.Date(2026, 11, 26, 9, 0, 0, 0, billZone))
	s.paid("mch_b", "ord_b", "T-000001", 700, "another merchant's", time.Date(2026, 11, 25, 10, 0, 0, 0, billZone))
	got, err := s.bill("mch_a", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	want := withDigest(billHeader + "total_payments,0,0\ntotal_refunds,0,0\nnet,0\n")
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("empty bill (-want +got):\n%s", d)
	}
	if err := hebao.VerifyBill(got); err != nil {
		t.Errorf("VerifyBill: %v", err)
	}
}

// TestBillDates: a date must be a real day written YYYY-MM-DD, from 2000 on.
func TestBillDates(t *testing.T) {
	s := newBillShop(t, time.Date(2026, 11, 26, 9, 0, 0, 0, billZone))
	for _, date := range []string{"", "2026-11-5", "2026-1-05", "20261125", "2026/11/25", "2026-02-30", "2026-11-25T00:00:00Z",
		" 2026-11-25", "2026-11-25\n", "1999-12-31", "0001-01-01", "-2026-11-25", "+2026-11-25", "２０２６-11-25"} {
		if _, err := s.bill("mch_a", date); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("bill of %q: %v, want invalid_request", date, err)
		}
	}
	if _, err := s.bill("mch_a", "2000-01-01"); err != nil {
		t.Errorf("bill of the first day: %v", err)
	}
}
