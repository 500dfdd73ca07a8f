package hebao

import (
	"math/rand/v2"
	"testing"
)

// TestRefundParts refunds random orders paid in part by a coupon and by red packets,
// in random pieces: no part ever gets back more than it paid, cash never more than
// the cash paid, each piece adds up, and a whole order refunded gives each part back
// exactly what it paid.
func TestRefundParts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		amount := 1 + r.Int64N(2_000)
		subsidy := r.Int64N(amount)
		promo := r.Int64N(amount - subsidy + 1)
		o := Order{Amount: amount, Subsidy: subsidy, PromoPaid: promo}
		cashPaid := amount - subsidy - promo
		var gotS, gotP, gotC int64
		for o.Refunded < amount {
			piece := 1 + r.Int64N(amount-o.Refunded)
			if r.IntN(3) == 0 {
				piece = 1
			}
			s, p, c := refundParts(o, piece)
			if s < 0 || p < 0 || c < 0 || s+p+c != piece {
				t.Fatalf("order %+v, piece %d: parts %d %d %d", o, piece, s, p, c)
			}
			gotS, gotP, gotC = gotS+s, gotP+p, gotC+c
			if gotS > subsidy || gotP > promo || gotC > cashPaid {
				t.Fatalf("order %+v: refunded %d %d %d of %d %d %d", o, gotS, gotP, gotC, subsidy, promo, cashPaid)
			}
			o.Refunded += piece
			o.SubsidyRefunded += s
			o.PromoRefunded += p
		}
		if gotS != subsidy || gotP != promo || gotC != cashPaid {
			t.Fatalf("order %d (%d %d %d): all refunded gave %d %d %d", amount, subsidy, promo, cashPaid, gotS, gotP, gotC)
		}
	}
}
