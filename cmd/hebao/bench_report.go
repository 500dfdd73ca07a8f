package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile returns the value below or at which perMille thousandths of sorted
// lie (nearest rank: the smallest value with at least that share of the values at
// or below it), 0 for no values. perMille is 1 to 1000: 500 is the median, 999 the
// 99.9th percentile.
func percentile(sorted []time.Duration, perMille int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (perMille*len(sorted) + 999) / 1000 // ceil, in whole numbers
	return sorted[max(rank, 1)-1]
}

// benchOpReport is one operation's line of the report.
type benchOpReport struct {
	Count     int     `json:"count"`
	PerSecond float64 `json:"per_second"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p999_ms"`
	errors    int64
}

// benchReport is what `hebao bench` prints; as JSON, exactly these fields.
type benchReport struct {
	Operations map[string]benchOpReport `json:"operations"`
	Errors     map[string]int64         `json:"errors"`
	Verify     string                   `json:"verify"`
	elapsed    time.Duration
	all        benchOpReport
}

// newBenchReport sums up res; verdict is the check's: "ok" or what failed. Only
// the operations of the mix appear.
func newBenchReport(res benchResult, verdict string) benchReport {
	r := benchReport{Operations: map[string]benchOpReport{}, Errors: res.errors, Verify: verdict, elapsed: res.elapsed}
	line := func(lat []time.Duration, errs int64) benchOpReport {
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		return benchOpReport{Count: len(lat), PerSecond: float64(len(lat)) / res.elapsed.Seconds(),
			P50: ms(percentile(lat, 500)), P90: ms(percentile(lat, 900)), P99: ms(percentile(lat, 990)), P999: ms(percentile(lat, 999)), errors: errs}
	}
	var all []time.Duration
	var allErrs int64
	for op := range numOps {
		lat := res.latencies[op]
		if len(lat) == 0 && res.opErrors[op] == 0 {
			continue
		}
		r.Operations[opNames[op]] = line(lat, res.opErrors[op])
		all = append(all, lat...)
		allErrs += res.opErrors[op]
	}
	r.all = line(all, allErrs)
	return r
}

func (r benchReport) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeTable prints the report for people.
func (r benchReport) writeTable(w io.Writer, cfg benchConfig, uncertain int64) {
	fmt.Fprintf(w, "hebao bench: %d wallets, %d workers, %s over %d server(s), %s measured\n\n",
		cfg.customers, cfg.concurrency, cfg.mix, len(cfg.urls), r.elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tper second\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\terrors\t")
	row := func(name string, o benchOpReport) {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t\n", name, o.Count, o.PerSecond, o.P50, o.P90, o.P99, o.P999, o.errors)
	}
	for _, name := range opNames {
		if o, ok := r.Operations[name]; ok {
			row(name, o)
		}
	}
	row("all", r.all)
	tw.Flush()
	if len(r.Errors) > 0 {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(r.Errors)) {
			parts = append(parts, fmt.Sprintf("%s %d", code, r.Errors[code]))
		}
		fmt.Fprintf(w, "\nerrors by code: %s\n", strings.Join(parts, ", "))
	}
	if uncertain > 0 {
		fmt.Fprintf(w, "money requests with no answer after 3 tries: %d\n", uncertain)
	}
	fmt.Fprintf(w, "\ncheck: %s\n", r.Verify)
}

// check proves the run: the ledger verifies (GET /v1/admin/ledger/verify), and
// every wallet and the merchant hold what they held before the measured phase plus
// what the successful operations moved. It returns "ok" or what failed; the error
// is for a check that could not be made.
func (b *bench) check(ctx context.Context, admin string) (string, error) {
	var rep struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
		FirstBad *struct {
			Seq    int64  `json:"seq"`
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"first_bad"`
	}
	err := b.client.do(ctx, benchCall{method: "GET", path: "/v1/admin/ledger/verify", token: admin, want: 200, out: &rep, retry: true})
	if err != nil {
		return "", fmt.Errorf("GET /v1/admin/ledger/verify: %w", err)
	}
	if !rep.OK {
		why := strings.Join(rep.Problems, "; ")
		if rep.FirstBad != nil {
			why = fmt.Sprintf("first bad transfer seq %d %s: %s", rep.FirstBad.Seq, rep.FirstBad.ID, rep.FirstBad.Reason)
		}
		return "the ledger does not verify: " + why, nil
	}
	bal, err := b.balances(ctx)
	if err != nil {
		return "", err
	}
	merchant, err := b.merchantBalance(ctx)
	if err != nil {
		return "", err
	}
	want := make([]int64, len(b.customers))
	for i, c := range b.customers {
		want[i] = c.start + c.delta.Load()
	}
	verdict := compareBalances(b.customers, want, bal, b.merchantStart+b.merchantDelta.Load(), merchant)
	if n := b.uncertain.Load(); verdict != "ok" && n > 0 {
		verdict += fmt.Sprintf(" (%d money requests got no answer, so their outcome is unknown to the bench)", n)
	}
	return verdict, nil
}

// compareBalances compares each wallet's balance plus red packet with want, and
// the merchant's balance with wantMerchant: "ok", or the differences (at most five
// wallets named).
func compareBalances(customers []*benchCustomer, want []int64, got []walletBalance, wantMerchant, gotMerchant int64) string {
	var bad []string
	var wantSum, gotSum int64
	for i, c := range customers {
		g := got[i].balance + got[i].promo
		wantSum += want[i]
		gotSum += g
		if g != want[i] {
			if len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("wallet %s holds %d fen, the bench's operations imply %d", c.walletID, g, want[i]))
			} else if len(bad) == 5 {
				bad = append(bad, "…")
			}
		}
	}
	if gotMerchant != wantMerchant {
		bad = append(bad, fmt.Sprintf("the merchant holds %d fen, the bench's payments imply %d", gotMerchant, wantMerchant))
	}
	if len(bad) == 0 {
		return "ok"
	}
	return fmt.Sprintf("%s (all wallets and the merchant: %d fen, expected %d)", strings.Join(bad, "; "), gotSum+gotMerchant, wantSum+wantMerchant)
}
