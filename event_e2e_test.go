package main

// Event-driven runs through the CLI against the emulator: a change made
// there by someone else, the CloudTrail event it would raise (written here
// in the shape AWS documents: AWS-doc "CloudTrail record contents" inside
// EventBridge's "AWS API Call via CloudTrail" envelope), and the bucket
// back at its baseline.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/event"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// someone is the principal making the changes the events report.
const someone = "arn:aws:sts::123456789012:assumed-role/Developer/bob"

// trailEvent is the EventBridge event of one CloudTrail-recorded call.
func trailEvent(t *testing.T, call event.Call, region, bucket, actor string) []byte {
	t.Helper()
	account, role, session := "123456789012", "Developer", "bob"
	if p := strings.Split(actor, ":"); len(p) == 6 {
		account = p[4]
		if parts := strings.Split(p[5], "/"); len(parts) == 3 {
			role, session = parts[1], parts[2]
		}
	}
	params := map[string]any{}
	if !call.Account {
		params["bucketName"] = bucket
		params["Host"] = bucket + ".s3." + region + ".amazonaws.com"
	}
	detail := map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session, "arn": actor, "accountId": account,
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::" + account + ":role/" + role, "accountId": account, "userName": role},
				"attributes":    map[string]any{"creationDate": "2026-12-04T08:59:00Z", "mfaAuthenticated": "false"},
			},
		},
		"eventTime": "2026-12-04T09:00:00Z", "eventSource": call.EventSource, "eventName": call.Name,
		"awsRegion": region, "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.22",
		"requestParameters": params, "responseElements": nil,
		"requestID": "EXAMPLE123", "eventID": "3f6e2c1a-0000-4000-8000-000000000001",
		"readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
		"recipientAccountId": account, "eventCategory": "Management",
	}
	ev := map[string]any{
		"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": event.DetailType,
		"source": call.Source, "account": account, "time": "2026-12-04T09:00:00Z", "region": region,
		"resources": []string{}, "detail": detail,
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func handled(t *testing.T, name string) event.Call {
	t.Helper()
	for _, c := range event.HandledCalls {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s is not a handled call", name)
	return event.Call{}
}

// runEvent runs `s3baseline event -` with the event on stdin.
func runEvent(t *testing.T, data []byte, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	e := &env{stdin: strings.NewReader(string(data)), stdout: &out, stderr: &errb, now: time.Now}
	code := runEnv(context.Background(), e, append([]string{"s3baseline", "event", "-"}, args...))
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func otherParty(t *testing.T, srv *emulator.Server) *awsprovider.Provider {
	t.Helper()
	p, err := awsprovider.New(context.Background(), awsprovider.Options{EndpointURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEventFixesTheBucket: for each bucket call the tool handles, the
// change is made in the emulator, the event fed to `event --mode apply`,
// and the bucket is back at its baseline with the writes journaled and no
// other bucket read or written.
func TestEventFixesTheBucket(t *testing.T) {
	const bucket, region = "compliant-high", "eu-west-1"
	ref := settings.BucketRef{Name: bucket, Region: region}
	ctx := context.Background()
	weaken := map[string]func(p *awsprovider.Provider) error{
		"PutBucketPublicAccessBlock": func(p *awsprovider.Provider) error {
			return p.PutPublicAccessBlock(ctx, ref, &settings.PublicAccessBlock{})
		},
		"DeleteBucketPublicAccessBlock": func(p *awsprovider.Provider) error { return p.PutPublicAccessBlock(ctx, ref, nil) },
		"PutBucketPolicy": func(p *awsprovider.Provider) error {
			return p.PutPolicy(ctx, ref, &settings.Policy{Raw: `{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::compliant-high/*"}]}`})
		},
		"DeleteBucketPolicy": func(p *awsprovider.Provider) error { return p.PutPolicy(ctx, ref, nil) },
		"PutBucketEncryption": func(p *awsprovider.Provider) error {
			return p.PutEncryption(ctx, ref, &settings.Encryption{Algorithm: "AES256"})
		},
		"DeleteBucketEncryption": func(p *awsprovider.Provider) error { return p.PutEncryption(ctx, ref, nil) },
		"PutBucketLogging":       func(p *awsprovider.Provider) error { return p.PutLogging(ctx, ref, nil) },
		"PutBucketOwnershipControls": func(p *awsprovider.Provider) error {
			return p.PutOwnership(ctx, ref, &settings.Ownership{Rule: "ObjectWriter"})
		},
		"DeleteBucketOwnershipControls": func(p *awsprovider.Provider) error { return p.PutOwnership(ctx, ref, nil) },
		// Under BucketOwnerEnforced S3 takes only the owner's ACL: the call
		// changes nothing, and the run finds nothing to do.
		"PutBucketAcl":          nil,
		"PutBucketNotification": func(p *awsprovider.Provider) error { return p.PutNotifications(ctx, ref, &settings.Notifications{}) },
		"PutBucketVersioning": func(p *awsprovider.Provider) error {
			return p.PutVersioning(ctx, ref, &settings.VersioningConfig{Status: settings.VersioningSuspended})
		},
	}
	for _, call := range event.HandledCalls {
		if call.Account {
			continue
		}
		t.Run(call.Name, func(t *testing.T) {
			fn, ok := weaken[call.Name]
			if !ok {
				t.Fatalf("no change for %s: add one", call.Name)
			}
			srv := startEmulator(t, "e2e")
			if fn != nil {
				if err := fn(otherParty(t, srv)); err != nil {
					t.Fatalf("making the change: %v", err)
				}
			}
			drift := planJSON(t, srv, "--bucket", bucket)
			changes := pending(drift)
			if fn != nil && len(changes) == 0 {
				t.Fatalf("the change made no drift to fix")
			}
			srv.ResetCalls()
			journal := filepath.Join(t.TempDir(), "j.jsonl")
			r := runEvent(t, trailEvent(t, call, region, bucket, someone), "--config", filepath.Join(repoTestdata, "e2e.yaml"),
				"--endpoint-url", srv.URL(), "--mode", "apply", "--allow-impact", "--journal", journal)
			if r.code != 0 {
				t.Fatalf("event exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			for _, c := range srv.Calls() {
				if c.Bucket != "" && c.Bucket != bucket && !strings.HasPrefix(c.Bucket, "s3baseline-logs-") {
					t.Errorf("the run touched another bucket: %s %s", c.Operation, c.Bucket)
				}
			}
			if pend := pending(planJSON(t, srv, "--bucket", bucket)); len(pend) > 0 {
				t.Errorf("after the event the bucket still has %v", pend)
			}
			if fn == nil {
				if _, err := os.Stat(journal); err == nil {
					t.Errorf("nothing to fix, but a journal was written")
				}
				return
			}
			recs, err := apply.ReadJournal(journal)
			if err != nil {
				t.Fatal(err)
			}
			writes := 0
			for _, rec := range recs {
				if rec.Status == apply.RecordDone {
					writes++
				}
			}
			if writes == 0 {
				t.Errorf("the journal has no done write for %v", changes)
			}
		})
	}
}

// TestEventIgnored: what must do nothing does nothing, and says why.
func TestEventIgnored(t *testing.T) {
	srv := startEmulator(t, "e2e")
	bpa := handled(t, "DeleteBucketPublicAccessBlock")
	withError := func(data []byte) []byte {
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		m["detail"].(map[string]any)["errorCode"] = "AccessDenied"
		out, _ := json.Marshal(m)
		return out
	}
	cases := map[string]struct {
		data []byte
		want string
		code int
	}{
		"OwnRole":    {trailEvent(t, bpa, "eu-west-1", "analytics-events", "arn:aws:sts::123456789012:assumed-role/Ops/s3baseline"), "made by s3baseline's own role", 0},
		"OutOfScope": {trailEvent(t, bpa, "eu-west-1", "no-such-bucket", someone), `bucket "no-such-bucket" is not in scope`, 0},
		"Exempt":     {trailEvent(t, handled(t, "PutBucketNotification"), "eu-west-1", "compliant-high", someone), "event_notifications is exempt (the team routes its own events)", 0},
		"FailedCall": {withError(trailEvent(t, bpa, "eu-west-1", "analytics-events", someone)), "failed (AccessDenied), so it changed nothing", 0},
		"OtherCall":  {[]byte(`{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012","region":"eu-west-1","detail":{"eventSource":"s3.amazonaws.com","eventName":"PutBucketTagging","requestParameters":{"bucketName":"x"}}}`), "not a call s3baseline handles", 0},
	}
	// compliant-high's notifications are exempt here, and its entry is
	// gone: the PutBucketNotification that removed it is no drift.
	e2e, err := os.ReadFile(filepath.Join(repoTestdata, "e2e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "exempt.yaml")
	rule := "  - match: \"compliant-high\"\n    exempt: [event_notifications]\n    reason: \"the team routes its own events\"\n"
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(e2e), "buckets:\n", "buckets:\n"+rule, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := otherParty(t, srv).PutNotifications(context.Background(), settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}, &settings.Notifications{}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv.ResetCalls()
			r := runEvent(t, tc.data, "--config", cfg, "--endpoint-url", srv.URL(), "--mode", "apply",
				"--journal", filepath.Join(t.TempDir(), "j.jsonl"))
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", r.code, tc.code, tc.want, r.stderr)
			}
			if w := srv.WriteCalls(); len(w) != 0 {
				t.Errorf("%d writes: %+v", len(w), w)
			}
		})
	}
}

// TestEventMalformed: a malformed event is one clear error line and a
// dead-letter record, never a panic.
func TestEventMalformed(t *testing.T) {
	srv := startEmulator(t, "e2e")
	for name, data := range map[string]string{
		"NotJSON":     `{"version":`,
		"NoDetail":    `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012"}`,
		"NoBucket":    `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012","detail":{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","requestParameters":{}}}`,
		"BadAccount":  `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"12","detail":{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","requestParameters":{"bucketName":"b"}}}`,
		"GlobBucket":  `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"123456789012","detail":{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","requestParameters":{"bucketName":"*"}}}`,
		"DetailArray": `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","detail":[1,2]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dl := filepath.Join(t.TempDir(), "dead")
			r := runEvent(t, []byte(data), "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--dead-letter", dl)
			if r.code != 1 || strings.Contains(r.stderr, "panic") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "dead letter: ") {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
			files, _ := filepath.Glob(filepath.Join(dl, "*.json"))
			if len(files) != 1 {
				t.Fatalf("%d dead letters", len(files))
			}
			body, _ := os.ReadFile(files[0])
			var rec struct{ Error, Raw string }
			if err := json.Unmarshal(body, &rec); err != nil || rec.Error == "" {
				t.Errorf("dead letter %s: %v", body, err)
			}
		})
	}
}

// TestEventTwiceAtOnce: two events for one bucket at once: one apply makes
// the writes, the other waits for the lock and finds nothing to do.
func TestEventTwiceAtOnce(t *testing.T) {
	srv := startOpsEmulator(t, 20*time.Millisecond)
	ref := settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}
	if err := otherParty(t, srv).PutPublicAccessBlock(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	data := trailEvent(t, handled(t, "DeleteBucketPublicAccessBlock"), "eu-west-1", "compliant-high", someone)
	dir := t.TempDir()
	srv.ResetCalls()
	var wg sync.WaitGroup
	res := make([]result, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = runEvent(t, data, "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--mode", "apply",
				"--journal", filepath.Join(dir, fmt.Sprintf("j%d.jsonl", i)))
		}()
	}
	wg.Wait()
	puts, journals := 0, 0
	for _, c := range srv.WriteCalls() {
		if c.Operation == "PutPublicAccessBlock" && c.Status/100 == 2 {
			puts++
		}
	}
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("event %d exited %d: %s", i, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("j%d.jsonl", i))); err == nil {
			journals++
			if _, err := apply.ReadJournal(filepath.Join(dir, fmt.Sprintf("j%d.jsonl", i))); err != nil {
				t.Error(err)
			}
		}
	}
	if puts != 1 || journals != 1 {
		t.Errorf("%d PutPublicAccessBlock and %d journals, want one of each\n0: %s\n1: %s", puts, journals, res[0].stderr, res[1].stderr)
	}
	if pend := pending(planJSON(t, srv, "--bucket", "compliant-high")); len(pend) > 0 {
		t.Errorf("still pending: %v", pend)
	}
}

// TestEventPlanMode: --mode plan alerts (exit 2) and writes nothing.
func TestEventPlanMode(t *testing.T) {
	srv := startEmulator(t, "e2e")
	ref := settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}
	if err := otherParty(t, srv).PutPublicAccessBlock(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	r := runEvent(t, trailEvent(t, handled(t, "DeleteBucketPublicAccessBlock"), "eu-west-1", "compliant-high", someone),
		"--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL())
	if r.code != exitChanges || !strings.Contains(r.stdout, "block_public_access") {
		t.Errorf("exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	if w := srv.WriteCalls(); len(w) != 0 {
		t.Errorf("plan mode wrote: %+v", w)
	}
}

// pending lists a plan's bucket changes that apply would make (impact
// allowed), "bucket control action".
func pending(p *plan.Plan) []string {
	var out []string
	for _, b := range p.Buckets {
		for _, c := range b.Changes {
			if c.Action != plan.NoOp && c.HeldBack == "" {
				out = append(out, b.Name+" "+string(c.Control)+" "+string(c.Action))
			}
		}
	}
	return out
}

// planWith is the plan --json of config.
func planWith(t *testing.T, srv *emulator.Server, config string) *plan.Plan {
	t.Helper()
	r := runCLI(t, "plan", "--config", config, "--endpoint-url", srv.URL(), "--json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan exited %d: %v\n%s", r.code, err, r.stderr)
	}
	return &p
}

// accountPending lists the account changes a plan would make.
func accountPending(p *plan.Plan) []string {
	var out []string
	for _, c := range p.AccountChanges {
		if c.Action != plan.NoOp {
			out = append(out, string(c.Control)+" "+string(c.Action)+" "+c.HeldBack)
		}
	}
	return out
}

// TestEventFixesTheAccount: for each account-level call, on an account a
// full apply brought to its baseline, the change is made, the event fed,
// and the account's controls are back where the full apply left them.
func TestEventFixesTheAccount(t *testing.T) {
	ctx := context.Background()
	// Without the e2e config's public site (baseline low), which account
	// Block Public Access would take offline, so that the account control
	// is planned at all.
	e2e, err := os.ReadFile(filepath.Join(repoTestdata, "e2e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	site := "  - match: \"public-downloads-*\"\n    baseline: low\n    reason: \"public download site, approved in SEC-142\"\n"
	if !strings.Contains(string(e2e), site) {
		t.Fatal("the e2e config has no public site rule to leave out")
	}
	cfg := filepath.Join(t.TempDir(), "all-high.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(e2e), site, "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	trailOf := func(t *testing.T, srv *emulator.Server) emulator.TrailSnapshot {
		for _, tr := range srv.Snapshot().Trails {
			return tr
		}
		t.Fatal("the full apply made no trail")
		return emulator.TrailSnapshot{}
	}
	weaken := map[string]func(t *testing.T, srv *emulator.Server, p *awsprovider.Provider) error{
		"PutAccountPublicAccessBlock": func(_ *testing.T, _ *emulator.Server, p *awsprovider.Provider) error {
			return p.PutAccountPublicAccessBlock(ctx, &settings.PublicAccessBlock{})
		},
		"DeleteAccountPublicAccessBlock": func(_ *testing.T, _ *emulator.Server, p *awsprovider.Provider) error {
			return p.PutAccountPublicAccessBlock(ctx, nil)
		},
		"StopLogging": func(t *testing.T, srv *emulator.Server, p *awsprovider.Provider) error {
			ts := trailOf(t, srv)
			tr, err := p.Trail(ctx, ts.HomeRegion, ts.Name)
			if err != nil || tr == nil {
				return fmt.Errorf("read trail: %v", err)
			}
			tr.IsLogging = false
			return p.PutTrail(ctx, *tr)
		},
		"DeleteTrail": func(t *testing.T, srv *emulator.Server, p *awsprovider.Provider) error {
			ts := trailOf(t, srv)
			return p.DeleteTrail(ctx, ts.HomeRegion, ts.Name)
		},
		"PutEventSelectors": func(t *testing.T, srv *emulator.Server, p *awsprovider.Provider) error {
			ts := trailOf(t, srv)
			tr, err := p.Trail(ctx, ts.HomeRegion, ts.Name)
			if err != nil || tr == nil {
				return fmt.Errorf("read trail: %v", err)
			}
			tr.EventSelectors = []settings.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}
			tr.AdvancedEventSelectors = nil
			return p.PutTrail(ctx, *tr)
		},
	}
	for _, call := range event.HandledCalls {
		if !call.Account {
			continue
		}
		t.Run(call.Name, func(t *testing.T) {
			fn := weaken[call.Name]
			if fn == nil {
				t.Fatalf("no change for %s: add one", call.Name)
			}
			srv := startEmulator(t, "e2e")
			if r := runCLI(t, "apply", "--config", cfg, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact", "--journal", filepath.Join(t.TempDir(), "full.jsonl")); r.code > 1 {
				t.Fatalf("full apply exited %d: %s", r.code, r.stderr)
			}
			want := accountPending(planWith(t, srv, cfg))
			if err := fn(t, srv, otherParty(t, srv)); err != nil {
				t.Fatalf("making the change: %v", err)
			}
			if got := accountPending(planWith(t, srv, cfg)); slices.Equal(got, want) {
				t.Fatalf("the change made no account drift (still %v)", got)
			}
			journal := filepath.Join(t.TempDir(), "j.jsonl")
			r := runEvent(t, trailEvent(t, call, "us-east-1", "", someone), "--config", cfg, "--endpoint-url", srv.URL(), "--mode", "apply", "--allow-impact", "--journal", journal)
			if r.code > 1 {
				t.Fatalf("event exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if got := accountPending(planWith(t, srv, cfg)); !slices.Equal(got, want) {
				t.Errorf("after the event the account has %v, the full apply left %v\nstderr: %s", got, want, r.stderr)
			}
			recs, err := apply.ReadJournal(journal)
			if err != nil || len(recs) == 0 {
				t.Errorf("journal: %d records, %v", len(recs), err)
			}
		})
	}
}

// TestEventFromMemberAccount: an organization's events forwarded to the
// tool's account: the event names a member account, and --role-name
// takes the run there; without it the event is refused with why.
func TestEventFromMemberAccount(t *testing.T) {
	org := startOrg(t)
	const member = "222222222222"
	mgmt, err := awsprovider.New(context.Background(), awsprovider.Options{EndpointURL: org.URL()})
	if err != nil {
		t.Fatal(err)
	}
	other, err := mgmt.ForAccount(context.Background(), member, orgRole, "someone")
	if err != nil {
		t.Fatal(err)
	}
	ref := settings.BucketRef{Name: "app-assets-222222222222", Region: "us-east-1"}
	if err := other.PutPublicAccessBlock(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	data := trailEvent(t, handled(t, "DeleteBucketPublicAccessBlock"), ref.Region, ref.Name, "arn:aws:sts::"+member+":assumed-role/Developer/bob")
	r := runEvent(t, data, "--config", orgConfig(), "--endpoint-url", org.URL(), "--mode", "apply")
	if r.code != 1 || !strings.Contains(r.stderr, "give --role-name") {
		t.Errorf("without --role-name: exit %d, stderr %s", r.code, r.stderr)
	}
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	r = runEvent(t, data, "--config", orgConfig(), "--endpoint-url", org.URL(), "--mode", "apply", "--role-name", orgRole, "--journal", journal)
	if r.code > 1 {
		t.Fatalf("event exited %d: %s", r.code, r.stderr)
	}
	got := org.Account(member).Snapshot().Buckets[ref.Name].PublicAccessBlock
	if got == nil || !got.BlockPublicAcls || !got.IgnorePublicAcls || !got.BlockPublicPolicy || !got.RestrictPublicBuckets {
		t.Errorf("the member's bucket Block Public Access after the event: %+v\nstderr: %s", got, r.stderr)
	}
	recs, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.Account != member {
			t.Errorf("journal record of account %q: %+v", rec.Account, rec)
		}
	}
	// The tool's own role in the member account makes no run.
	own := trailEvent(t, handled(t, "PutBucketPublicAccessBlock"), ref.Region, ref.Name, "arn:aws:sts::"+member+":assumed-role/"+orgRole+"/s3baseline")
	before := len(org.Account(member).WriteCalls())
	r = runEvent(t, own, "--config", orgConfig(), "--endpoint-url", org.URL(), "--mode", "apply", "--role-name", orgRole)
	if r.code != 0 || !strings.Contains(r.stderr, "own role") || len(org.Account(member).WriteCalls()) != before {
		t.Errorf("own-role event: exit %d, stderr %s", r.code, r.stderr)
	}
}
