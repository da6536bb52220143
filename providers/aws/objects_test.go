package aws_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

const objectsScenario = `{
  "account_id": "123456789012",
  "caller_arn": "arn:aws:iam::123456789012:role/ci",
  "buckets": [
    {"name": "journal-us", "region": "us-east-1"},
    {"name": "journal-eu", "region": "eu-west-1"},
    {"name": "theirs", "region": "us-east-1", "owner_account": "210987654321"}
  ]
}`

func etagOf(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// TestObjectsRoundTrip writes, reads, lists and deletes in buckets of two
// regions: every call goes to the bucket's own region, which HeadBucket
// finds once per bucket.
func TestObjectsRoundTrip(t *testing.T) {
	srv := start(t, parse(t, objectsScenario), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	for _, tc := range []struct{ bucket, region string }{{"journal-us", "us-east-1"}, {"journal-eu", "eu-west-1"}} {
		t.Run(tc.bucket, func(t *testing.T) {
			srv.ResetCalls()
			body := []byte(`{"run":"` + tc.bucket + `"}`)
			etag, err := p.PutObject(ctx, tc.bucket, "runs/1.json", body, awsprovider.PutCondition{})
			if err != nil || etag != etagOf(body) {
				t.Fatalf("PutObject = %s, %v; want ETag %s", etag, err, etagOf(body))
			}
			if _, err := p.PutObject(ctx, tc.bucket, "runs/0.json", []byte("zero"), awsprovider.PutCondition{}); err != nil {
				t.Fatal(err)
			}
			got, gotETag, err := p.GetObject(ctx, tc.bucket, "runs/1.json")
			if err != nil || string(got) != string(body) || gotETag != etag {
				t.Errorf("GetObject = %q %s, %v", got, gotETag, err)
			}
			keys, err := p.ListObjects(ctx, tc.bucket, "runs/")
			if err != nil || !slices.Equal(keys, []string{"runs/0.json", "runs/1.json"}) {
				t.Errorf("ListObjects = %v, %v", keys, err)
			}
			if err := p.DeleteObject(ctx, tc.bucket, "runs/1.json", ""); err != nil {
				t.Errorf("DeleteObject: %v", err)
			}
			if _, _, ok := srv.Object(tc.bucket, "runs/1.json"); ok {
				t.Error("object still there after DeleteObject")
			}
			if err := p.DeleteObject(ctx, tc.bucket, "runs/1.json", ""); err != nil {
				t.Errorf("DeleteObject of a deleted key: %v, want success (S3 answers 204)", err)
			}
			calls := srv.Calls()
			if n := countCalls(calls, op("s3", "HeadBucket")); n != 1 {
				t.Errorf("%d HeadBucket calls, want 1 (the region is kept)", n)
			}
			for _, c := range calls {
				if c.Operation != "HeadBucket" && c.Region != tc.region {
					t.Errorf("%s signed for %s, want %s", c.Operation, c.Region, tc.region)
				}
			}
		})
	}
}

// TestPutObjectConditions: conditions that do not hold are
// ErrPreconditionFailed and write nothing.
func TestPutObjectConditions(t *testing.T) {
	old := []byte("old")
	cases := map[string]struct {
		reason       string
		seed         bool
		cond         awsprovider.PutCondition
		wantErr      []error // sentinels the error must match
		wantCode     string
		wantStored   string // "" = absent
		wantNotFound bool
	}{
		"create":        {"If-None-Match on a new key writes", false, awsprovider.PutCondition{IfNoneMatch: true}, nil, "", "new", false},
		"create taken":  {"If-None-Match on an existing key fails", true, awsprovider.PutCondition{IfNoneMatch: true}, []error{awsprovider.ErrPreconditionFailed}, "PreconditionFailed", "old", false},
		"swap":          {"If-Match with the current ETag replaces", true, awsprovider.PutCondition{IfMatch: etagOf(old)}, nil, "", "new", false},
		"swap stale":    {"If-Match with a stale ETag fails", true, awsprovider.PutCondition{IfMatch: etagOf([]byte("older"))}, []error{awsprovider.ErrPreconditionFailed}, "PreconditionFailed", "old", false},
		"swap missing":  {"If-Match on a missing key fails, and says the key is missing", false, awsprovider.PutCondition{IfMatch: etagOf(old)}, []error{awsprovider.ErrPreconditionFailed, awsprovider.ErrObjectNotFound}, "NoSuchKey", "", true},
		"unconditional": {"no condition overwrites", true, awsprovider.PutCondition{}, nil, "", "new", false},
		"both":          {"both conditions at once is refused before any call", false, awsprovider.PutCondition{IfNoneMatch: true, IfMatch: `"x"`}, nil, "", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, parse(t, objectsScenario), emulator.Options{})
			p := newProvider(t, srv)
			if tc.seed {
				if _, err := srv.PutObjectDirect("journal-eu", "lock", old); err != nil {
					t.Fatal(err)
				}
			}
			_, err := p.PutObject(context.Background(), "journal-eu", "lock", []byte("new"), tc.cond)
			if name == "both" {
				if err == nil || countCalls(srv.Calls(), op("s3", "PutObject")) != 0 {
					t.Fatalf("%s\nPutObject = %v with %d calls, want an error and no call", tc.reason, err, len(srv.Calls()))
				}
				return
			}
			if (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("%s\nPutObject err = %v", tc.reason, err)
			}
			for _, sentinel := range tc.wantErr {
				if !errors.Is(err, sentinel) {
					t.Errorf("%s\nerrors.Is(%v, %v) = false", tc.reason, err, sentinel)
				}
			}
			if !tc.wantNotFound && errors.Is(err, awsprovider.ErrObjectNotFound) {
				t.Errorf("%s\n%v matches ErrObjectNotFound", tc.reason, err)
			}
			if err != nil {
				if got := awsprovider.ErrorCode(err); got != tc.wantCode {
					t.Errorf("%s\nErrorCode = %q, want %q", tc.reason, got, tc.wantCode)
				}
				if !strings.HasPrefix(err.Error(), "put object s3://journal-eu/lock: "+tc.wantCode) {
					t.Errorf("%s\nerror %q does not say what was done", tc.reason, err)
				}
			}
			body, _, ok := srv.Object("journal-eu", "lock")
			if string(body) != tc.wantStored || ok != (tc.wantStored != "") {
				t.Errorf("%s\nstored %q (present %v), want %q", tc.reason, body, ok, tc.wantStored)
			}
		})
	}
}

// TestPutObjectRace: of racing creates of one key exactly one wins; the
// others are ErrPreconditionFailed (S3's 409 ConditionalRequestConflict or
// 412), which the provider does not retry.
func TestPutObjectRace(t *testing.T) {
	srv := start(t, parse(t, objectsScenario), emulator.Options{Latency: 150 * time.Millisecond})
	p := newProvider(t, srv)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = p.PutObject(context.Background(), "journal-us", "lock", []byte(fmt.Sprint("run ", i)), awsprovider.PutCondition{IfNoneMatch: true})
		})
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			if body, _, _ := srv.Object("journal-us", "lock"); string(body) != fmt.Sprint("run ", i) {
				t.Errorf("run %d won, but the lock holds %q", i, body)
			}
		case !errors.Is(err, awsprovider.ErrPreconditionFailed):
			t.Errorf("run %d: %v, want ErrPreconditionFailed", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d winners, want 1: %v", winners, errs)
	}
	if got := countCalls(srv.Calls(), func(c emulator.Call) bool { return c.Operation == "PutObject" && c.Status == 409 }); got == 0 {
		t.Error("no PutObject met 409 ConditionalRequestConflict although all were in flight together")
	}
	if got := countCalls(srv.Calls(), op("s3", "PutObject")); got != n {
		t.Errorf("%d PutObject calls, want %d (a failed condition is not retried)", got, n)
	}
}

// TestDeleteObjectConditions: an If-Match delete happens only for the ETag
// named.
func TestDeleteObjectConditions(t *testing.T) {
	old := []byte("old")
	cases := map[string]struct {
		reason       string
		seed         bool
		ifMatch      string
		wantErr      bool
		wantNotFound bool
		wantGone     bool
	}{
		"matching":         {"the ETag read deletes", true, etagOf(old), false, false, true},
		"any":              {"* deletes whatever is there", true, "*", false, false, true},
		"stale":            {"another ETag keeps the object", true, etagOf([]byte("x")), true, false, false},
		"missing":          {"a missing key fails the condition", false, etagOf(old), true, true, true},
		"unconditional":    {"no condition deletes", true, "", false, false, true},
		"missing, no cond": {"no condition on a missing key is success", false, "", false, false, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, parse(t, objectsScenario), emulator.Options{})
			p := newProvider(t, srv)
			if tc.seed {
				if _, err := srv.PutObjectDirect("journal-us", "lock", old); err != nil {
					t.Fatal(err)
				}
			}
			err := p.DeleteObject(context.Background(), "journal-us", "lock", tc.ifMatch)
			if (err != nil) != tc.wantErr || (tc.wantErr && !errors.Is(err, awsprovider.ErrPreconditionFailed)) {
				t.Fatalf("%s\nDeleteObject = %v", tc.reason, err)
			}
			if errors.Is(err, awsprovider.ErrObjectNotFound) != tc.wantNotFound {
				t.Errorf("%s\nErrObjectNotFound = %v, want %v (%v)", tc.reason, !tc.wantNotFound, tc.wantNotFound, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "delete object s3://journal-us/lock: ") {
				t.Errorf("%s\nerror %q does not say what was done", tc.reason, err)
			}
			if _, _, ok := srv.Object("journal-us", "lock"); ok == tc.wantGone {
				t.Errorf("%s\npresent = %v, want gone = %v", tc.reason, ok, tc.wantGone)
			}
		})
	}
}

// TestGetObjectErrors: a missing key is ErrObjectNotFound; a missing or
// foreign bucket is not.
func TestGetObjectErrors(t *testing.T) {
	srv := start(t, parse(t, objectsScenario), emulator.Options{})
	p := newProvider(t, srv)
	cases := []struct {
		reason, bucket string
		wantNotFound   bool
		wantCode       string
	}{
		{"missing key", "journal-eu", true, "NoSuchKey"},
		{"missing bucket", "no-such-journal", false, "NoSuchBucket"},
		{"another account's bucket", "theirs", false, "AccessDenied"},
	}
	for _, tc := range cases {
		_, _, err := p.GetObject(context.Background(), tc.bucket, "k")
		if err == nil || errors.Is(err, awsprovider.ErrObjectNotFound) != tc.wantNotFound || awsprovider.ErrorCode(err) != tc.wantCode {
			t.Errorf("%s: GetObject = %v (code %q), want code %s, not-found %v", tc.reason, err, awsprovider.ErrorCode(err), tc.wantCode, tc.wantNotFound)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "get object s3://"+tc.bucket+"/k: ") {
			t.Errorf("%s: error %q does not say what was done", tc.reason, err)
		}
	}
}

// TestListObjectsPaginates lists more keys than one ListObjectsV2 page.
func TestListObjectsPaginates(t *testing.T) {
	srv := start(t, parse(t, objectsScenario), emulator.Options{})
	p := newProvider(t, srv)
	const n = 1205
	var want []string
	for i := n - 1; i >= 0; i-- {
		k := fmt.Sprintf("runs/%05d.json", i)
		if _, err := srv.PutObjectDirect("journal-eu", k, []byte("x")); err != nil {
			t.Fatal(err)
		}
		want = append(want, k)
	}
	if _, err := srv.PutObjectDirect("journal-eu", "other/1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	got, err := p.ListObjects(context.Background(), "journal-eu", "runs/")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ListObjects: %d keys, %v; want %d sorted", len(got), err, n)
	}
	if pages := countCalls(srv.Calls(), op("s3", "ListObjectsV2")); pages != 2 {
		t.Errorf("%d ListObjectsV2 calls, want 2 pages", pages)
	}
	all, err := p.ListObjects(context.Background(), "journal-eu", "")
	if err != nil || len(all) != n+1 || all[0] != "other/1" {
		t.Errorf("ListObjects of everything: %d keys (first %v), %v", len(all), all[:1], err)
	}
	empty, err := p.ListObjects(context.Background(), "journal-us", "")
	if err != nil || len(empty) != 0 {
		t.Errorf("ListObjects of an empty bucket = %v, %v", empty, err)
	}
}

// TestObjectsFollowMovedBucket: a bucket deleted and made again in another
// region after its region was learnt answers 301 there; the provider
// retries once in the new region.
func TestObjectsFollowMovedBucket(t *testing.T) {
	srv := start(t, parse(t, objectsScenario), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	if _, err := p.PutObject(ctx, "journal-us", "k", []byte("1"), awsprovider.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	us := p.S3Client("us-east-1")
	if _, err := us.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("journal-us"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := us.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("journal-us")}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateBucket(ctx, settings.BucketRef{Name: "journal-us", Region: "ap-southeast-2"}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	if _, err := p.PutObject(ctx, "journal-us", "k", []byte("2"), awsprovider.PutCondition{IfNoneMatch: true}); err != nil {
		t.Fatalf("PutObject after the move: %v", err)
	}
	var regions []string
	for _, c := range srv.Calls() {
		regions = append(regions, c.Operation+"@"+c.Region+fmt.Sprint(" ", c.Status))
	}
	if want := []string{"PutObject@us-east-1 301", "PutObject@ap-southeast-2 200"}; !slices.Equal(regions, want) {
		t.Errorf("calls %v, want %v", regions, want)
	}
}

// TestGetObjectBodyOutlivesTheAttempt: a body too large to arrive with the
// headers is read after the SDK's attempt returns; the attempt's own
// context must not end first ("context canceled" cut such reads before).
func TestGetObjectBodyOutlivesTheAttempt(t *testing.T) {
	srv := start(t, &emulator.Scenario{AccountID: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/ops",
		Buckets: []emulator.Bucket{{Name: "evidence", Region: "eu-west-1"}}}, emulator.Options{})
	p := newProvider(t, srv, func(o *awsprovider.Options) { o.Adaptive = true })
	body := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	if _, err := p.CreateObject(context.Background(), "evidence", "big.json", body); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		got, _, err := p.GetObject(context.Background(), "evidence", "big.json")
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read %d: %d bytes, %v", i, len(got), err)
		}
	}
}
