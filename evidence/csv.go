package evidence

import (
	"encoding/csv"
	"io"
	"strings"
	"time"
)

// csvHeader names the CSV columns.
var csvHeader = []string{"time", "account", "account_name", "region", "bucket", "subject", "control", "status",
	"baseline", "nist", "security_hub", "before", "after", "detail", "made"}

// WriteCSV writes one row per bucket (or account) and control.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Time.UTC().Format(time.RFC3339), r.Account, r.AccountName, r.Region, r.Resource, r.Subject,
			string(r.Control), r.Status, r.Baseline, strings.Join(r.NIST, " "), strings.Join(r.SecurityHub, " "),
			r.Before, r.After, r.Detail, r.Made}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
