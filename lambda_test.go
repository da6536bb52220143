package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3baseline/s3baseline/settings"
)

// TestLambdaHandler runs the function's handler in-process with the
// aws-lambda-go event type, configured as the deployment templates
// configure it: config, journal, report, lock and dead letters in S3.
func TestLambdaHandler(t *testing.T) {
	srv := startOpsEmulator(t, 0)
	cfg, err := os.ReadFile(filepath.Join(repoTestdata, "e2e.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.PutObjectDirect(opsBucket, "config/s3baseline.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		envConfig:     "s3://" + opsBucket + "/config/s3baseline.yaml",
		envJournal:    "s3://" + opsBucket + "/s3baseline/journals/event",
		envReport:     "s3://" + opsBucket + "/s3baseline/reports/event",
		envLock:       "s3://" + opsBucket + "/s3baseline/",
		envDeadLetter: "s3://" + opsBucket + "/s3baseline/dead-letter/",
		envEndpoint:   srv.URL(),
	}
	var logs bytes.Buffer
	h := &lambdaHandler{getenv: func(k string) string { return vars[k] }, stdout: &logs, stderr: &logs, workDir: t.TempDir()}
	toEvent := func(data []byte) events.CloudWatchEvent {
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ref := settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}
	if err := otherParty(t, srv).PutPublicAccessBlock(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	ev := toEvent(trailEvent(t, handled(t, "DeleteBucketPublicAccessBlock"), ref.Region, ref.Name, someone))
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v\n%s", err, logs.String())
	}
	if pend := pending(planJSON(t, srv, "--bucket", ref.Name)); len(pend) > 0 {
		t.Errorf("after the handler: %v", pend)
	}
	// JSON logs, the report under the event's id, the journal in S3.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) && strings.HasPrefix(line, "{") {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	if _, _, ok := srv.Object(opsBucket, "s3baseline/reports/event/"+ev.ID+".json"); !ok {
		t.Errorf("no report for event %s: %v", ev.ID, srv.ObjectKeys(opsBucket))
	}
	journaled := false
	for _, k := range srv.ObjectKeys(opsBucket) {
		if strings.HasPrefix(k, "s3baseline/journals/event/event-") {
			journaled = true
		}
	}
	if !journaled {
		t.Errorf("no journal in S3: %v", srv.ObjectKeys(opsBucket))
	}
	// The tool's own write raises its own event: it does nothing.
	srv.ResetCalls()
	own := toEvent(trailEvent(t, handled(t, "PutBucketPublicAccessBlock"), ref.Region, ref.Name, "arn:aws:sts::123456789012:assumed-role/Ops/alice"))
	if err := h.Handle(context.Background(), own); err != nil {
		t.Errorf("own event: %v", err)
	}
	if w := srv.WriteCalls(); len(w) != 1 || w[0].Operation != "PutObject" {
		t.Errorf("the own event wrote more than its report: %+v", w)
	}

	// A malformed event is the invocation's error (Lambda retries it,
	// then its DLQ gets it) and a dead letter in S3.
	bad := events.CloudWatchEvent{ID: "bad-1", DetailType: "AWS API Call via CloudTrail", Source: "aws.s3", AccountID: "123456789012", Detail: json.RawMessage(`{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy"}`)}
	err = h.Handle(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "names no bucket") {
		t.Errorf("malformed event: %v", err)
	}
	dead := 0
	for _, k := range srv.ObjectKeys(opsBucket) {
		if strings.HasPrefix(k, "s3baseline/dead-letter/") {
			dead++
		}
	}
	if dead != 1 {
		t.Errorf("%d dead letters: %v", dead, srv.ObjectKeys(opsBucket))
	}
}

// TestDeployedEnvironment: every S3BASELINE_ variable the deployment
// templates set is one the Lambda mode reads, so a renamed variable cannot
// leave a deployed function silently unconfigured.
func TestDeployedEnvironment(t *testing.T) {
	known := map[string]bool{}
	for _, v := range []string{envConfig, envConfigYAML, envMode, envJournal, envLock, envDeadLetter, envReport, envRoleName, envAllowImpact} {
		known[v] = true
	}
	re := regexp.MustCompile(`S3BASELINE_[A-Z_]+`)
	files, _ := filepath.Glob("deploy/eventdriven/*.yaml")
	tf, _ := filepath.Glob("deploy/terraform/s3baseline-event/*.tf")
	files = append(files, tf...)
	if len(files) < 3 {
		t.Fatalf("deployment files: %v", files)
	}
	set := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range re.FindAllString(string(data), -1) {
			set[v] = true
			if !known[v] {
				t.Errorf("%s sets %s, which the Lambda mode does not read", f, v)
			}
		}
	}
	for _, v := range []string{envConfig, envMode, envJournal, envReport, envLock, envDeadLetter} {
		if !set[v] {
			t.Errorf("no deployment sets %s", v)
		}
	}
}
