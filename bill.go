package hebao

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BillTx is the part of Tx that reads a merchant's day for its bill.
type BillTx interface {
	// PaidOrders returns the merchant's orders paid at or after from and before to,
	// oldest payment first.
	PaidOrders(ctx context.Context, merchantID string, from, to time.Time) ([]Order, error)
	// MerchantRefunds returns the merchant's refunds created at or after from and
	// before to, oldest first.
	MerchantRefunds(ctx context.Context, merchantID string, from, to time.Time) ([]Refund, error)
}

// BillService makes merchants' daily bills (对账单, SPEC §9): for each China day, once
// it has ended (T+1), a CSV of the merchant's payments and refunds with totals and a
// SHA-256 digest.
type BillService struct {
	Store Store
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// billHeader names the columns of a bill's rows. reason is the refund's reason,
// empty for payments; a refund's subject is its order's.
var billHeader = []string{"type", "time", "order_id", "out_trade_no", "refund_id", "out_refund_no",
	"amount_fen", "amount_yuan", "payer_wallet_id", "subject", "reason"}

// billDigestPrefix starts a bill's last line, before the lowercase hex SHA-256 of
// every byte above it.
const billDigestPrefix = "sha256,"

// billEpoch is the first day a bill can be asked for.
var billEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, chinaTime)

// Bill returns the merchant's bill for date, a China day (UTC+8) written
// YYYY-MM-DD: a header row; a row per payment and per refund of that day in time
// order; the rows total_payments,<count>,<fen>, total_refunds,<count>,<fen> and
// net,<fen>; and a last line sha256,<hex> that VerifyBill checks. A bill exists only
// once its day has ended in China time, and does not change after that.
// Errors: invalid_request (a malformed date, or one before 2000-01-01), conflict
// (the day has not ended yet).
func (s *BillService) Bill(ctx context.Context, m Merchant, date string) ([]byte, error) {
	day, err := parseBillDate(date)
	if err != nil {
		return nil, err
	}
	end := day.AddDate(0, 0, 1)
	var out []byte
	err = s.Store.View(ctx, func(tx Tx) error {
		if now := nowIn(s.Now, tx); now.Before(end) {
			return Errorf(CodeConflict, "the bill for %s is not ready: a day's bill is made once the day has ended in China time (UTC+8), so this one is ready from %s",
				date, end.Format(time.RFC3339))
		}
		paid, err := tx.PaidOrders(ctx, m.ID, day, end)
		if err != nil {
			return err
		}
		refunds, err := tx.MerchantRefunds(ctx, m.ID, day, end)
		if err != nil {
			return err
		}
		// A refund's row names what was bought: its order's subject, read here
		// when the order was paid on another day.
		subjects := make(map[string]string, len(paid))
		for _, o := range paid {
			subjects[o.ID] = o.Subject
		}
		for _, r := range refunds {
			if _, ok := subjects[r.OrderID]; ok {
				continue
			}
			o, err := tx.OrderByID(ctx, r.OrderID)
			if err != nil {
				return err
			}
			subjects[o.ID] = o.Subject
		}
		out, err = writeBill(paid, refunds, subjects)
		return err
	})
	return out, err
}

// parseBillDate returns the start of the China day that date, YYYY-MM-DD, names.
// Errors: invalid_request (malformed, or before 2000-01-01).
func parseBillDate(date string) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, chinaTime)
	if err != nil || day.Format(time.DateOnly) != date {
		return time.Time{}, Errorf(CodeInvalidRequest, "a bill's date must be a day written YYYY-MM-DD, such as 2026-11-25")
	}
	if day.Before(billEpoch) {
		return time.Time{}, Errorf(CodeInvalidRequest, "bills start on 2000-01-01")
	}
	return day, nil
}

// billRow is one payment or refund of a bill, with what orders the rows.
type billRow struct {
	at     time.Time
	refund bool
	id     string
	cells  []string
}

// writeBill renders a bill of the payments of paid and the refunds of refunds (see
// BillService.Bill), whatever day they fall on; subjects maps order ids to their
// subjects for the refund rows. It is the pure half of Bill.
func writeBill(paid []Order, refunds []Refund, subjects map[string]string) ([]byte, error) {
	rows := make([]billRow, 0, len(paid)+len(refunds))
	var payTotal, refundTotal int64
	for _, o := range paid {
		payTotal += o.Amount
		rows = append(rows, billRow{at: o.PaidAt, id: o.ID, cells: []string{"payment", billTime(o.PaidAt), o.ID, o.OutTradeNo, "", "",
			strconv.FormatInt(o.Amount, 10), FormatYuan(o.Amount), o.WalletID, billText(o.Subject), ""}})
	}
	for _, r := range refunds {
		refundTotal += r.Amount
		rows = append(rows, billRow{at: r.CreatedAt, refund: true, id: r.ID, cells: []string{"refund", billTime(r.CreatedAt), r.OrderID,
			r.OutTradeNo, r.ID, r.OutRefundNo, strconv.FormatInt(r.Amount, 10), FormatYuan(r.Amount), r.WalletID,
			billText(subjects[r.OrderID]), billText(r.Reason)}})
	}
	// Time order; at the same microsecond a payment comes before a refund, since it
	// must have come first.
	slices.SortStableFunc(rows, func(a, b billRow) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.refund != b.refund {
			if a.refund {
				return 1
			}
			return -1
		}
		return strings.Compare(a.id, b.id)
	})

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(billHeader)
	for _, r := range rows {
		w.Write(r.cells)
	}
	w.Write([]string{"total_payments", strconv.Itoa(len(paid)), strconv.FormatInt(payTotal, 10)})
	w.Write([]string{"total_refunds", strconv.Itoa(len(refunds)), strconv.FormatInt(refundTotal, 10)})
	w.Write([]string{"net", strconv.FormatInt(payTotal-refundTotal, 10)})
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.WriteString(billDigestPrefix + hex.EncodeToString(sum[:]) + "\n")
	return buf.Bytes(), nil
}

// billTime writes t in China time, to the second: 2026-11-25T23:59:59+08:00.
func billTime(t time.Time) string { return t.In(chinaTime).Format(time.RFC3339) }

// billText defuses a cell of merchant-written text that a spreadsheet would run as
// a formula (CSV injection): one starting with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe, which spreadsheets show as text.
func billText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// VerifyBill checks a bill's last line: sha256, and the lowercase hex SHA-256 of
// every byte above it. Merchants can do the same with any SHA-256 tool to prove a
// bill is whole and unchanged.
// Errors: invalid_request (no digest line, or a digest that does not match).
func VerifyBill(b []byte) error {
	body, ok := bytes.CutSuffix(b, []byte("\n"))
	i := bytes.LastIndexByte(body, '\n')
	if !ok || i < 0 {
		return Errorf(CodeInvalidRequest, "this is not a bill: it must end with a line sha256,<digest>")
	}
	above, last := b[:i+1], body[i+1:]
	digest, ok := bytes.CutPrefix(last, []byte(billDigestPrefix))
	if !ok {
		return Errorf(CodeInvalidRequest, "this is not a bill: it must end with a line sha256,<digest>")
	}
	sum := sha256.Sum256(above)
	if string(digest) != hex.EncodeToString(sum[:]) {
		return Errorf(CodeInvalidRequest, "the bill's digest does not match its contents: it was changed or cut short")
	}
	return nil
}
