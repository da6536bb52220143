package apply_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/settings"
)

func TestJournalRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "journal.jsonl")
	j, err := apply.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	in := []apply.Record{
		{Status: apply.RecordStarted, Account: account, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1",
			Aspect: "policy", Controls: []settings.ControlID{settings.TLSOnly, settings.AdminPolicyLock},
			Before: json.RawMessage(`null`), After: json.RawMessage(`{"raw":"{\"Statement\":[]}"}`)},
		{Status: apply.RecordFailed, Account: account, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1", Started: 1, Error: "put bucket policy: AccessDenied: no"},
		{Status: apply.RecordCreated, Account: account, Kind: apply.KindTopic, Region: "eu-west-1", Target: "arn:aws:sns:eu-west-1:1:t"},
	}
	for i, r := range in {
		got, err := j.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != int64(i+1) || got.Time.IsZero() {
			t.Errorf("append %d: seq %d time %v", i, got.Seq, got.Time)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	out, err := apply.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	// The wire format is one JSON object per line with the documented
	// keys, each line's prev the SHA-256 of the exact line before it.
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := range in {
		in[i].Seq = int64(i + 1)
		in[i].Line = i + 1
		if i > 0 {
			sum := sha256.Sum256([]byte(lines[i-1]))
			in[i].Prev = "sha256:" + hex.EncodeToString(sum[:])
		}
	}
	if diff := cmp.Diff(in, out, cmpopts.IgnoreFields(apply.Record{}, "Time")); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	first := lines[0]
	for _, key := range []string{`"seq":1`, `"time":"`, `"status":"started"`, `"account":"123456789012"`, `"kind":"bucket"`, `"aspect":"policy"`, `"controls":["tls_only","admin_policy_lock"]`, `"before":null`, `"prev":""`} {
		if !strings.Contains(first, key) {
			t.Errorf("first line misses %s: %s", key, first)
		}
	}

	// Reopening continues the numbering and the chain.
	j, err = apply.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r, err := j.Append(apply.Record{Status: apply.RecordDone, Kind: apply.KindBucket, Started: 1})
	if err != nil || r.Seq != 4 {
		t.Errorf("append after reopen: seq %d, err %v", r.Seq, err)
	}
	sum := sha256.Sum256([]byte(lines[2]))
	if want := "sha256:" + hex.EncodeToString(sum[:]); r.Prev != want {
		t.Errorf("append after reopen: prev %q, want %q", r.Prev, want)
	}
	if _, err := apply.ReadJournal(path); err != nil {
		t.Errorf("journal continued after reopen: %v", err)
	}
}

func TestReadJournalDamage(t *testing.T) {
	good := `{"seq":1,"time":"2026-01-01T00:00:00Z","status":"started","kind":"bucket","bucket":"b","region":"r","aspect":"logging","before":null,"after":null}` + "\n"
	cases := map[string]struct {
		reason  string
		content string
		err     string // "" when it must be read
		damaged bool
	}{
		"Clean": {reason: "a whole journal reads", content: good + strings.Replace(good, `"seq":1`, `"seq":2`, 1)},
		"TruncatedLast": {
			reason:  "a crash mid-write leaves half a last line: tolerated and reported",
			content: good + `{"seq":2,"time":"2026-01-01T0`, damaged: true,
		},
		"GarbageLast": {
			reason: "a last line that is not a record is tolerated too", content: good + "\x00\x00\x00\n", damaged: true,
		},
		"DamageInMiddle": {
			reason: "damage anywhere else is an error naming file and line", content: good + "{\"seq\":\n" + good,
			err: "journal.jsonl:2: damaged journal record",
		},
		"UnknownOutcome": {
			reason:  "a write whose outcome cannot be known is recorded as unknown, a status the tool writes",
			content: good + `{"seq":2,"time":"2026-01-01T00:00:01Z","status":"unknown","kind":"bucket","started":1,"error":"interrupted"}` + "\n",
		},
		"UnknownStatus": {
			reason: "a record with a status the tool never writes is damage", content: strings.Replace(good, "started", "begun", 1) + good,
			err: "journal.jsonl:1: damaged journal record: unknown status",
		},
		"Empty": {reason: "an empty journal has no records", content: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			recs, err := apply.ReadJournal(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s\nerr = %v, want %q", tc.reason, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nerr = %v", tc.reason, err)
			}
			gotDamaged := len(recs) > 0 && recs[len(recs)-1].Status == apply.RecordDamaged
			if gotDamaged != tc.damaged {
				t.Fatalf("%s\nrecords %+v", tc.reason, recs)
			}
			if tc.damaged {
				last := recs[len(recs)-1]
				if !strings.Contains(last.Error, "journal.jsonl:2: damaged last line") {
					t.Errorf("damage reported as %q", last.Error)
				}
				steps := apply.PlanRollback(recs)
				if len(steps) != 2 || !strings.HasPrefix(steps[0].Description, "note: ") {
					t.Errorf("rollback of a damaged journal: %+v", steps)
				}
				if _, err := apply.OpenJournal(path); err == nil || !strings.Contains(err.Error(), "damaged last line") {
					t.Errorf("appending to a damaged journal: err %v", err)
				}
			}
		})
	}
	if _, err := apply.ReadJournal(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing journal read without error")
	}
}

func TestPlanRollbackOrderAndNotes(t *testing.T) {
	recs := []apply.Record{
		{Seq: 1, Status: apply.RecordCreated, Kind: apply.KindKey, Region: "eu-west-1", Target: "arn:aws:kms:eu-west-1:1:key/k"},
		{Seq: 2, Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "logs", Region: "eu-west-1", Aspect: "policy", For: "a",
			Controls: []settings.ControlID{settings.AccessLogging}, Before: json.RawMessage(`null`),
			After: json.RawMessage(`{"raw":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"S3BaselineServerAccessLogs\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"logging.s3.amazonaws.com\"},\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::logs/s3/*\"}]}"}`)},
		{Seq: 3, Status: apply.RecordDone, Kind: apply.KindBucket, Started: 2},
		{Seq: 4, Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "a", Region: "eu-west-1", Aspect: "public_access_block",
			Before: json.RawMessage(`{"block_public_acls":false,"ignore_public_acls":false,"block_public_policy":false,"restrict_public_buckets":false}`)},
		{Seq: 5, Status: apply.RecordFailed, Kind: apply.KindBucket, Started: 4, Error: "put public access block: AccessDenied: no"},
		{Seq: 6, Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "logs", Region: "eu-west-1", Aspect: "policy", Before: json.RawMessage(`{"raw":"{}"}`)},
		{Seq: 7, Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "a", Region: "eu-west-1", Aspect: "website"},
	}
	steps := apply.PlanRollback(recs)
	var seqs []int64
	for _, s := range steps {
		seqs = append(seqs, s.Record.Seq)
	}
	if diff := cmp.Diff([]int64{6, 4, 2, 1}, seqs); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	for i, want := range []string{
		`bucket "logs" (eu-west-1): restore bucket policy by statement: s3baseline's statements as they were; everyone else's statements are kept as they are now`,
		`bucket "a" (eu-west-1): restore Block Public Access to {"block_public_acls":false,`,
		`bucket "logs" (eu-west-1): restore bucket policy (access_logging for bucket a) by statement: remove S3BaselineServerAccessLogs {"Sid":"S3BaselineServerAccessLogs",`,
		`KMS key arn:aws:kms:eu-west-1:1:key/k (eu-west-1) was created by s3baseline [journal seq 1]: left in place`,
	} {
		if !strings.HasPrefix(steps[i].Description, want) {
			t.Errorf("step %d = %q\nwant prefix %q", i, steps[i].Description, want)
		}
	}
	if !strings.Contains(steps[1].Description, "write failed: put public access block: AccessDenied: no") {
		t.Errorf("step 1 = %q", steps[1].Description)
	}
}

func TestPlanRollbackOutcome(t *testing.T) {
	started := apply.Record{Seq: 1, Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "a", Region: "eu-west-1",
		Aspect: "public_access_block", Before: json.RawMessage(`null`), After: json.RawMessage(`{"block_public_acls":true,"ignore_public_acls":true,"block_public_policy":true,"restrict_public_buckets":true}`)}
	cases := map[string]struct {
		reason string
		end    *apply.Record
		want   string
	}{
		"Done":   {reason: "a write that was made", end: &apply.Record{Status: apply.RecordDone}, want: "[journal seq 1, write done]"},
		"Failed": {reason: "a write that failed may be half made", end: &apply.Record{Status: apply.RecordFailed, Error: "AccessDenied"}, want: "[journal seq 1, write failed: AccessDenied]"},
		"Unknown": {
			reason: "a write interrupted in flight may have been made",
			end:    &apply.Record{Status: apply.RecordUnknown, Error: "context canceled"}, want: "[journal seq 1, write outcome unknown: context canceled]",
		},
		"UnknownNoError": {reason: "unknown with nothing more to say", end: &apply.Record{Status: apply.RecordUnknown}, want: "[journal seq 1, write outcome unknown]"},
		"NoEnd":          {reason: "a started record with no end counts as unknown", want: "[journal seq 1, write never finished, outcome unknown]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			recs := []apply.Record{started}
			if tc.end != nil {
				end := *tc.end
				end.Seq, end.Kind, end.Started = 2, apply.KindBucket, 1
				recs = append(recs, end)
			}
			steps := apply.PlanRollback(recs)
			if len(steps) != 1 || steps[0].Record.Seq != 1 {
				t.Fatalf("%s\nsteps %+v, want the started record restored", tc.reason, steps)
			}
			if !strings.HasSuffix(steps[0].Description, tc.want) {
				t.Errorf("%s\ndescription %q\nwant suffix %q", tc.reason, steps[0].Description, tc.want)
			}
		})
	}
}

// TestRollbackUnknownOutcome: a started write whose outcome is unknown is
// rolled back as one that may have been made: restored where it was made,
// left alone (no write) where it was not.
func TestRollbackUnknownOutcome(t *testing.T) {
	cases := map[string]struct {
		reason string
		made   bool
		end    string // "" for no end record
	}{
		"UnknownMade":    {reason: "the interrupted write was made: rollback restores it", made: true, end: apply.RecordUnknown},
		"UnknownNotMade": {reason: "the interrupted write was not made: nothing to restore, nothing written", end: apply.RecordUnknown},
		"NoEndMade":      {reason: "a started record with no end is unknown too", made: true},
		"FailedMade":     {reason: "as a failed write that was made anyway", made: true, end: apply.RecordFailed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := start(t, nil)
			ctx := context.Background()
			ref := settings.BucketRef{Name: "public-downloads-site", Region: "us-east-1"}
			before := e.srv.Snapshot()
			cur := e.observe(ref.Name, ref.Region).PublicAccessBlock
			if cur == nil || cur.AllOn() {
				t.Fatalf("scenario: %s Block Public Access %+v, want some off", ref.Name, cur)
			}
			on := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
			bj, _ := json.Marshal(cur)
			aj, _ := json.Marshal(on)

			j := e.journal("interrupted.jsonl")
			s, err := j.Append(apply.Record{Status: apply.RecordStarted, Account: account, Kind: apply.KindBucket, Bucket: ref.Name, Region: ref.Region,
				Aspect: string(settings.AspectPublicAccessBlock), Controls: []settings.ControlID{settings.BlockPublicAccess}, Before: bj, After: aj})
			if err != nil {
				t.Fatal(err)
			}
			if tc.made {
				if err := e.prov.PutPublicAccessBlock(ctx, ref, on); err != nil {
					t.Fatal(err)
				}
			}
			if tc.end != "" {
				if _, err := j.Append(apply.Record{Status: tc.end, Account: account, Kind: apply.KindBucket, Bucket: ref.Name, Region: ref.Region,
					Aspect: string(settings.AspectPublicAccessBlock), Started: s.Seq, Error: "interrupted"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}

			e.srv.ResetCalls()
			if err := e.rollback(j.Path()); err != nil {
				t.Fatalf("%s\nrollback: %v", tc.reason, err)
			}
			sameAsBefore(t, before, e.srv.Snapshot())
			if got, want := len(e.srv.WriteCalls()), map[bool]int{true: 1, false: 0}[tc.made]; got != want {
				t.Errorf("%s\nrollback made %d writes, want %d", tc.reason, got, want)
			}
		})
	}
}
