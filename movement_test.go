package hebao_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestMovementEventJSON: the hand-written encoding is byte for byte what
// encoding/json writes, awkward strings included.
func TestMovementEventJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 30, 1, 123456000, time.UTC)
	for _, e := range []hebao.MovementEvent{
		{CustomerID: "cus_1", WalletID: "wal_1", TransactionID: "mov_1", Kind: hebao.MovementTransferIn,
			Status: hebao.MovementSucceeded, Amount: 1234, Counterparty: "138****0000", BalanceAfter: 99, At: at},
		{CustomerID: "c", WalletID: "w", TransactionID: "m", Kind: hebao.MovementWithdrawal, Status: hebao.MovementFailed,
			Amount: 1, BalanceAfter: -5, FailureCode: "card_declined", At: at.Truncate(time.Second)},
		{CustomerID: "a", WalletID: "wa", TransactionID: "ma", Kind: hebao.MovementTransferOut, Status: hebao.MovementSucceeded,
			Amount: 7, Counterparty: "139****0000", BalanceAfter: 3, At: at, Other: &hebao.MovementEvent{CustomerID: "b",
				WalletID: "wb", TransactionID: "mb", Kind: hebao.MovementTransferIn, Status: hebao.MovementSucceeded,
				Amount: 7, Counterparty: "138****0000", BalanceAfter: 7, At: at}},
		{CustomerID: "q\"uote\\back\nline\x01<&>\t\r\b\f\x7f", WalletID: "张三\u2028\u2029", TransactionID: "bad\xffutf8",
			Kind: "k", Status: "s", At: time.Time{}},
	} {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
		}
	}
}
