package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/hebaopay/hebao"
)

const interestUsage = `Usage:

	hebao interest accrue [--date YYYY-MM-DD] [--rate-ppm N] [store flags]

Accrues a China day's interest on every real-named wallet's day-end balance and, on
the 20th of March, June, September and December, credits what has accrued. Without
--date it runs every day that is due, oldest first. Running a day again pays nothing
twice; a run that was stopped continues where it stopped.

	--date YYYY-MM-DD   the day; it must have ended (China time, UTC+8)
	--rate-ppm N        the yearly rate in parts per million: 3500 is 0.35%
	                    (default $HEBAO_INTEREST_RATE_PPM, or 3500); a resumed run
	                    keeps the rate it started with
	--day-basis N       days in an interest year, 360 or 365 (default 360)
	--chunk N           wallets per database transaction (default 10000)
`

// interest runs `hebao interest accrue`.
func (m *Main) interest(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "accrue" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(m.Stdout, interestUsage)
			return nil
		}
		fmt.Fprint(m.Stderr, interestUsage)
		return usageError{"interest: the only subcommand is accrue"}
	}
	var (
		f     storeFlags
		date  string
		rate  int64
		basis int64
		chunk int
	)
	defaultRate := int64(3_500)
	if v := m.Getenv("HEBAO_INTEREST_RATE_PPM"); v != "" {
		r, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("interest accrue: HEBAO_INTEREST_RATE_PPM=%q is not a whole number", v)}
		}
		defaultRate = r
	}
	flags := flag.NewFlagSet("interest accrue", flag.ContinueOnError)
	f.register(flags, m.Getenv)
	flags.StringVar(&date, "date", "", "the China day, YYYY-MM-DD (default: every day that is due)")
	flags.Int64Var(&rate, "rate-ppm", defaultRate, "the yearly rate in parts per million (3500 is 0.35%)")
	flags.Int64Var(&basis, "day-basis", hebao.DefaultInterestDayBasis, "days in an interest year")
	flags.IntVar(&chunk, "chunk", 10_000, "wallets per database transaction")
	if help, err := m.parse(flags, args[1:]); help || err != nil {
		return err
	}
	if rate < 0 || rate > hebao.MaxInterestRatePPM || (basis != 360 && basis != 365) || chunk < 1 {
		return usageError{fmt.Sprintf("interest accrue: --rate-ppm must be 0 to %d, --day-basis 360 or 365, --chunk at least 1", hebao.MaxInterestRatePPM)}
	}
	db, _, err := m.openStore(ctx, f, true, nil, nil)
	if err != nil {
		return fmt.Errorf("interest accrue: %w", err)
	}
	defer db.Close()

	start := time.Now()
	last := start
	svc := &hebao.InterestService{Store: db, AnnualRatePPM: rate, DayBasis: basis, Chunk: chunk,
		Progress: func(r hebao.InterestRun) {
			if time.Since(last) < time.Second {
				return
			}
			last = time.Now()
			switch r.Status {
			case hebao.InterestAccruing:
				fmt.Fprintf(m.Stderr, "interest %s: %d wallets accrued so far (through %s), %s\n", r.Date, r.Wallets, r.Cursor, time.Since(start).Round(time.Millisecond))
			case hebao.InterestCrediting:
				fmt.Fprintf(m.Stderr, "interest %s: %d wallets credited so far, %s\n", r.Date, r.Payees, time.Since(start).Round(time.Millisecond))
			}
		}}
	days := []string{date}
	if date == "" {
		if days, err = svc.Pending(ctx); err != nil {
			return fmt.Errorf("interest accrue: %w", err)
		}
		if len(days) == 0 {
			fmt.Fprintln(m.Stdout, "interest: no day is due")
			return nil
		}
	}
	for _, d := range days {
		began := time.Now()
		r, err := svc.Accrue(ctx, d)
		if err != nil {
			if he := hebao.ErrorOf(err); he.Code != hebao.CodeInternal {
				return fmt.Errorf("interest accrue %s: %s", d, he.Message)
			}
			return fmt.Errorf("interest accrue %s: %w (run it again to continue where it stopped)", d, err)
		}
		fmt.Fprintln(m.Stdout, describeInterestRun(r, time.Since(began)))
	}
	return nil
}

// describeInterestRun is the line `interest accrue` prints for a finished day.
func describeInterestRun(r hebao.InterestRun, took time.Duration) string {
	fen, _ := hebao.InterestSplit(r.Accrued, r.DayBasis)
	s := fmt.Sprintf("interest %s: %d wallets accrued %s at %d ppm a year (basis %d days)",
		r.Date, r.Wallets, hebao.FormatCNY(fen), r.RatePPM, r.DayBasis)
	if r.Payees > 0 || r.Credited > 0 {
		s += fmt.Sprintf("; %d wallets credited %s", r.Payees, hebao.FormatCNY(r.Credited))
	}
	return s + fmt.Sprintf(" (%s)", took.Round(time.Millisecond))
}
