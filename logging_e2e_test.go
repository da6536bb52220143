package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// dateMangler is a proxy that spoils every response's Date header, as a
// misbehaving middlebox might: the SDK then logs a warning of its own
// ("failed to parse response Date header value") for each response.
type dateMangler struct{ next http.RoundTripper }

func (d dateMangler) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err == nil {
		resp.Header.Set("Date", "not a date")
	}
	return resp, err
}

// TestSDKLogsThroughOurs: the SDK's own log lines go through the tool's
// logger: with --log-format json every stderr line is a JSON object (the
// SDK's warnings as level WARN, source aws-sdk), and in text form they are
// "s3baseline: aws sdk warning: ..." lines on the tool's stderr, never the
// SDK's "SDK 2026/01/02 ... WARN" lines on the process's.
func TestSDKLogsThroughOurs(t *testing.T) {
	srv := startEmulator(t, "e2e")
	mangle := func(o *awsprovider.Options) {
		o.HTTPClient = &http.Client{Transport: dateMangler{next: http.DefaultTransport}}
	}
	args := []string{"plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL()}

	r := runCLITuned(t, mangle, append(args, "--log-format", "json")...)
	if r.code != 0 {
		t.Fatalf("plan exited %d\n%s", r.code, r.stderr)
	}
	sdk := 0
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var line struct{ Level, Msg, Source string }
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("stderr line is not JSON: %q (%v)", l, err)
		}
		if line.Source == "aws-sdk" {
			sdk++
			if line.Level != "WARN" || !strings.Contains(line.Msg, "failed to parse response Date header value") {
				t.Errorf("SDK line %+v, want the Date header warning at WARN", line)
			}
		}
	}
	if sdk == 0 {
		t.Fatalf("no SDK warning on stderr: the test proves nothing\n%s", r.stderr)
	}

	r = runCLITuned(t, mangle, args...)
	if r.code != 0 {
		t.Fatalf("plan exited %d\n%s", r.code, r.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "s3baseline: aws sdk warning: failed to parse response Date header value") {
			t.Errorf("stderr line %q, want only the SDK's warnings, as our lines", l)
		}
	}
	t.Logf("%d SDK warnings as JSON lines", sdk)
}
