package evidence

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

//go:embed html/report.html.tmpl
var htmlFiles embed.FS

// statusSymbols mark every status with a symbol as well as a colour, so
// that the grid reads without colour too.
var statusSymbols = map[string]string{Pass: "✓", Fixed: "✓", Fail: "✗", Held: "!", Finding: "●", Muted: "○", Exempt: "–", Error: "?"}

type htmlCell struct{ Status, Symbol, Title string }

type htmlBucket struct {
	Account, Region, Bucket, Baseline string
	Cells                             []htmlCell
	Failing                           int
}

type htmlControl struct {
	ID                                       string
	Pass, Fail, Held, Finding, Fixed, Exempt int
	NIST, SecurityHub                        string
}

type htmlRollup struct {
	Account, Region    string
	Buckets, Compliant int
}

type htmlPoint struct {
	X, Y    int
	Label   string
	Failing int
}

type htmlData struct {
	Generated                        string
	Score                            int
	Buckets, Compliant, Rows         int
	Controls                         []string
	Grid                             []htmlBucket
	Summary                          []htmlControl
	Rollup                           []htmlRollup
	Details                          []Row
	Accounts, Regions, BaselineNames []string
	Points                           []htmlPoint
	Polyline                         string
}

// WriteHTML writes one self-contained page (no network: styles and script
// inline, a Content-Security-Policy that allows nothing else): the
// estate's score, a bucket × control grid that filters and sorts, the
// per-control summary, an account × region roll-up, every change and
// finding with its NIST and Security Hub ids and before -> after, and,
// with several plans, the failing controls over time as an inline SVG.
func WriteHTML(w io.Writer, plans []PlanRows, runs []*report.Report, now time.Time) error {
	latest := latestRows(plans)
	d := htmlData{Generated: now.UTC().Format(time.RFC3339), Rows: len(latest)}
	hub := map[settings.ControlID]baselines.Control{}
	for _, c := range baselines.Catalog() {
		hub[c.ID] = c
	}
	// The controls with a row, in plan order.
	order := append(slices.Clone(settings.BucketControls), settings.AccountControls...)
	seen := map[settings.ControlID]bool{}
	for _, r := range latest {
		if r.Control != "" && r.Resource != "" {
			seen[r.Control] = true
		}
	}
	var controls []settings.ControlID
	for _, id := range order {
		if seen[id] {
			controls = append(controls, id)
			d.Controls = append(d.Controls, string(id))
		}
	}
	type bkey struct{ account, region, bucket string }
	grid := map[bkey]*htmlBucket{}
	var keys []bkey
	pass, total := 0, 0
	for _, r := range latest {
		if r.Resource == "" || r.Control == "" {
			continue
		}
		k := bkey{r.Account, r.Region, r.Resource}
		b := grid[k]
		if b == nil {
			b = &htmlBucket{Account: r.Account, Region: r.Region, Bucket: r.Resource, Baseline: r.Baseline, Cells: make([]htmlCell, len(controls))}
			for i := range b.Cells {
				b.Cells[i] = htmlCell{Status: "na", Symbol: "·", Title: "not in the bucket's baseline"}
			}
			grid[k] = b
			keys = append(keys, k)
		}
		i := slices.Index(controls, r.Control)
		b.Cells[i] = htmlCell{Status: r.Status, Symbol: statusSymbols[r.Status], Title: r.Status + ": " + oneLine(r.Detail, 200)}
		switch r.Status {
		case Pass, Fixed:
			pass++
			total++
		case Fail, Held, Finding:
			b.Failing++
			total++
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.account+"/"+a.region+"/"+a.bucket < b.account+"/"+b.region+"/"+b.bucket
	})
	rollup := map[[2]string]*htmlRollup{}
	accounts, regions, bls := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, k := range keys {
		b := grid[k]
		d.Grid = append(d.Grid, *b)
		d.Buckets++
		if b.Failing == 0 {
			d.Compliant++
		}
		rk := [2]string{b.Account, b.Region}
		if rollup[rk] == nil {
			rollup[rk] = &htmlRollup{Account: b.Account, Region: b.Region}
		}
		rollup[rk].Buckets++
		if b.Failing == 0 {
			rollup[rk].Compliant++
		}
		accounts[b.Account], regions[b.Region], bls[b.Baseline] = true, true, true
	}
	for _, k := range sortedKeys(rollup) {
		d.Rollup = append(d.Rollup, *rollup[k])
	}
	d.Accounts, d.Regions, d.BaselineNames = sortedSet(accounts), sortedSet(regions), sortedSet(bls)
	if total > 0 {
		d.Score = pass * 100 / total
	}
	tallies := map[settings.ControlID]*htmlControl{}
	for _, r := range latest {
		if r.Control == "" {
			continue
		}
		t := tallies[r.Control]
		if t == nil {
			c := hub[r.Control]
			t = &htmlControl{ID: string(r.Control), NIST: strings.Join(c.NIST, ", "), SecurityHub: strings.Join(c.SecurityHub, ", ")}
			tallies[r.Control] = t
		}
		switch r.Status {
		case Pass:
			t.Pass++
		case Fail:
			t.Fail++
		case Held:
			t.Held++
		case Finding:
			t.Finding++
		case Fixed:
			t.Fixed++
		case Exempt:
			t.Exempt++
		}
		if r.Status == Fail || r.Status == Held || r.Status == Finding || r.Status == Error {
			d.Details = append(d.Details, r)
		}
	}
	for _, id := range order {
		if t := tallies[id]; t != nil {
			d.Summary = append(d.Summary, *t)
		}
	}
	d.Points, d.Polyline = driftPoints(plans, runs)
	tmpl, err := template.New("report.html.tmpl").Funcs(template.FuncMap{"join": strings.Join}).ParseFS(htmlFiles, "html/report.html.tmpl")
	if err != nil {
		return err
	}
	return tmpl.Execute(w, d)
}

// latestRows are the rows of the newest plan of each account and region
// (several plans of one estate over time draw the chart; the grid shows
// the last).
func latestRows(plans []PlanRows) []Row {
	newest := map[string]time.Time{}
	for _, p := range plans {
		for _, r := range p.Rows {
			if p.Created.After(newest[r.Account]) {
				newest[r.Account] = p.Created
			}
		}
	}
	var out []Row
	for _, p := range plans {
		for _, r := range p.Rows {
			if p.Created.Equal(newest[r.Account]) {
				out = append(out, r)
			}
		}
	}
	return out
}

// driftPoints are the failing controls of each plan and each run report
// over time, scaled to a 600×160 chart: a run report counts the drift its
// run left (not fixed) and its findings.
func driftPoints(plans []PlanRows, runs []*report.Report) ([]htmlPoint, string) {
	type point struct {
		at      time.Time
		failing int
	}
	var ps []point
	for _, p := range plans {
		n := 0
		for _, r := range p.Rows {
			if r.Status == Fail || r.Status == Held || r.Status == Finding {
				n++
			}
		}
		ps = append(ps, point{p.Created, n})
	}
	for _, rep := range runs {
		n := 0
		for _, a := range rep.Accounts {
			for _, b := range a.Buckets {
				n += len(b.Drift) - len(b.Fixed)
			}
			for _, c := range a.AccountControls {
				if c.Status != report.StatusFixed {
					n++
				}
			}
			n += len(a.Findings)
		}
		ps = append(ps, point{rep.StartedAt, n})
	}
	if len(ps) < 2 {
		return nil, ""
	}
	slices.SortFunc(ps, func(a, b point) int { return a.at.Compare(b.at) })
	maxF := 1
	for _, p := range ps {
		maxF = max(maxF, p.failing)
	}
	var pts []htmlPoint
	var line []string
	for i, p := range ps {
		x := 40 + i*520/(len(ps)-1)
		y := 140 - p.failing*120/maxF
		pts = append(pts, htmlPoint{X: x, Y: y, Label: p.at.UTC().Format("2006-01-02 15:04"), Failing: p.failing})
		line = append(line, fmt.Sprintf("%d,%d", x, y))
	}
	return pts, strings.Join(line, " ")
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[[2]string]V) [][2]string {
	var out [][2]string
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	return out
}
