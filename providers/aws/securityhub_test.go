package aws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/s3baseline/s3baseline/evidence"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

// asffRows are n failing bucket rows of the account.
func asffRows(n int) []evidence.Row {
	var rows []evidence.Row
	for i := range n {
		rows = append(rows, evidence.Row{Time: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC), Account: "123456789012",
			Resource: fmt.Sprintf("bucket-%03d", i), Region: "eu-west-1", Control: settings.TLSOnly, Status: evidence.Fail,
			Detail: "there is no bucket policy, so nothing denies requests without TLS", NIST: []string{"SC-8"}})
	}
	return rows
}

// TestASFFAgainstSDKTypes: the evidence package's ASFF reads into the
// SDK's AwsSecurityFinding with every attribute Security Hub requires
// (AWS-doc "Required top-level ASFF attributes") set.
func TestASFFAgainstSDKTypes(t *testing.T) {
	for _, f := range evidence.ToASFF(asffRows(3), "aws", "eu-west-1", time.Now()) {
		data, _ := json.Marshal(f)
		var sdk types.AwsSecurityFinding
		if err := json.Unmarshal(data, &sdk); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]*string{"AwsAccountId": sdk.AwsAccountId, "CreatedAt": sdk.CreatedAt, "Description": sdk.Description,
			"GeneratorId": sdk.GeneratorId, "Id": sdk.Id, "ProductArn": sdk.ProductArn, "SchemaVersion": sdk.SchemaVersion,
			"Title": sdk.Title, "UpdatedAt": sdk.UpdatedAt} {
			if v == nil || *v == "" {
				t.Errorf("%s is not set in the SDK's type", name)
			}
		}
		if sdk.Severity == nil || sdk.Severity.Label == "" || len(sdk.Types) == 0 || len(sdk.Resources) != 1 ||
			sdk.Resources[0].Id == nil || sdk.Resources[0].Type == nil || sdk.Compliance == nil || sdk.Compliance.Status != types.ComplianceStatusFailed {
			t.Errorf("severity, types, resources or compliance missing: %+v", sdk)
		}
	}
}

// TestImportFindings: 250 findings go to Security Hub in three batches of
// at most 100, and all are imported; a region where Security Hub is off
// refuses every finding, and the caller is told.
func TestImportFindings(t *testing.T) {
	srv := start(t, &emulator.Scenario{AccountID: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/ops", SecurityHubRegions: []string{"eu-west-1"}}, emulator.Options{})
	p := newProvider(t, srv)
	var docs [][]byte
	for _, f := range evidence.ToASFF(asffRows(250), "aws", "eu-west-1", time.Now()) {
		data, _ := json.Marshal(f)
		docs = append(docs, data)
	}
	n, failed, err := p.ImportFindings(context.Background(), "eu-west-1", docs)
	if err != nil || n != 250 || len(failed) != 0 {
		t.Fatalf("imported %d, failed %q, err %v; want 250", n, failed, err)
	}
	batches := 0
	for _, c := range srv.WriteCalls() {
		if c.Operation == "BatchImportFindings" {
			batches++
		}
	}
	if batches != 3 {
		t.Errorf("%d BatchImportFindings calls, want 3", batches)
	}
	if got := len(srv.Snapshot().SecurityHubFindings["eu-west-1"]); got != 250 {
		t.Errorf("%d findings in Security Hub, want 250", got)
	}
	var off [][]byte
	for _, f := range evidence.ToASFF(asffRows(2), "aws", "us-east-1", time.Now()) {
		data, _ := json.Marshal(f)
		off = append(off, data)
	}
	if n, failed, err := p.ImportFindings(context.Background(), "us-east-1", off); err != nil || n != 0 || len(failed) != 2 {
		t.Errorf("where Security Hub is off: imported %d, failed %q, err %v", n, failed, err)
	}
}
