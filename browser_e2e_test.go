package main

// The HTML report in a real browser: headless Chromium (Debian's
// chromium, which .ci/run installs), driven through chromedp. The page
// is opened from a file, must make no network request, must show a grid
// whose counts are the plan's, and must filter; a screenshot is kept.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/s3baseline/s3baseline/plan"
)

// browser finds Chromium; without one the test is skipped, unless
// S3BASELINE_BROWSER_TESTS=1 (as .ci/run sets) makes it a failure.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("S3BASELINE_BROWSER_TESTS") == "1" {
		t.Fatal("no Chromium found (apt-get install chromium); S3BASELINE_BROWSER_TESTS=1 needs it")
	}
	t.Skip("no Chromium: the browser tests run in CI (.ci/run installs it)")
	return ""
}

// gridExpect is what the grid of a plan must show: its buckets, the cells
// with a pending change, and the buckets with anything failing.
func gridExpect(p *plan.Plan) (buckets, failCells, failingBuckets int) {
	for _, a := range p.Sections() {
		for _, b := range a.Buckets {
			buckets++
			failing := false
			findings := map[string]bool{}
			for _, c := range b.Changes {
				if c.Action != plan.NoOp {
					failing = true
					if c.HeldBack == "" {
						failCells++
					}
				}
			}
			for _, f := range b.Findings {
				if f.Muted == nil {
					findings[string(f.Control)] = true
				}
			}
			if failing || len(findings) > 0 {
				failingBuckets++
			}
		}
	}
	return buckets, failCells, failingBuckets
}

func TestHTMLReportInBrowser(t *testing.T) {
	chrome := browser(t)
	type site struct {
		name  string
		plans func(t *testing.T, dir string) []string
	}
	sites := []site{
		{"demo", func(t *testing.T, dir string) []string {
			srv := startEmulator(t, "demo")
			out := filepath.Join(dir, "demo-plan.json")
			if r := runCLI(t, "plan", "--config", filepath.Join(filepath.Dir(repoTestdata), "fixtures", "demo", "s3baseline.yaml"), "--endpoint-url", srv.URL(), "--out", out); r.code != 0 {
				t.Fatalf("plan: %d %s", r.code, r.stderr)
			}
			return []string{out}
		}},
		{"organization", func(t *testing.T, dir string) []string {
			org := startOrg(t)
			out := filepath.Join(dir, "org-plan.json")
			if r := runCLI(t, "plan", "--config", orgConfig(), "--endpoint-url", org.URL(), "--accounts", "all", "--role-name", orgRole, "--out", out); r.code != 0 {
				t.Fatalf("plan: %d %s", r.code, r.stderr)
			}
			return []string{out}
		}},
	}
	artifacts := os.Getenv("S3BASELINE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			plans := s.plans(t, dir)
			page := filepath.Join(dir, "report.html")
			if r := runCLI(t, append([]string{"report", "--format", "html", "--out", page}, plans...)...); r.code != 0 {
				t.Fatalf("report html: %d %s", r.code, r.stderr)
			}
			p, err := plan.ReadFile(plans[0])
			if err != nil {
				t.Fatal(err)
			}
			wantBuckets, wantFail, wantFailing := gridExpect(p)

			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1400, 900))
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			url := "file://" + page
			var requests []string
			err = chromedp.Listen(ctx, func(ev any) {
				var u string
				switch e := ev.(type) {
				case *network.EventRequestWillBeSent:
					u = e.Request.URL
				case network.EventRequestWillBeSent:
					u = e.Request.URL
				default:
					return
				}
				if u != url && !strings.HasPrefix(u, "data:") {
					requests = append(requests, u)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#grid")); err != nil {
				t.Fatalf("browser: %v", err)
			}
			count := func(js string) int {
				n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
				if err != nil {
					t.Fatalf("browser: %s: %v", js, err)
				}
				return n
			}
			rows := count(`document.querySelectorAll("#grid tbody tr").length`)
			fails := count(`document.querySelectorAll('#grid td[data-status="fail"]').length`)
			// The first screen of the page (a PNG), which is what a reader sees.
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.SetValue("#f-status", "failing")); err != nil {
				t.Fatal(err)
			}
			shown := count(`document.getElementById("f-status").dispatchEvent(new Event("change")); document.querySelectorAll("#grid tbody tr:not([hidden])").length`)
			label, err := chromedp.Run(ctx, chromedp.Text("#shown"))
			if err != nil {
				t.Fatal(err)
			}
			if rows != wantBuckets || fails != wantFail {
				t.Errorf("grid: %d rows and %d pending-change cells, the plan has %d buckets and %d such changes", rows, fails, wantBuckets, wantFail)
			}
			if shown != wantFailing || !strings.HasPrefix(label, strconv.Itoa(wantFailing)+" of ") {
				t.Errorf("the failing filter shows %d rows (%q), the plan has %d buckets failing something", shown, label, wantFailing)
			}
			if len(requests) > 0 {
				t.Errorf("the page made network requests: %q", requests)
			}
			if err := os.WriteFile(filepath.Join(artifacts, "report-"+s.name+".png"), shot, 0o644); err != nil {
				t.Fatal(err)
			}
			if *update && s.name == "demo" {
				if err := os.WriteFile(filepath.Join(repoTestdata, "report-demo.png"), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
