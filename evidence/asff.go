package evidence

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// ASFF is one finding in the AWS Security Finding Format (AWS-doc "AWS
// Security Finding Format (ASFF)", "Required top-level attributes"), as
// securityhub:BatchImportFindings takes it.
type ASFF struct {
	SchemaVersion string          `json:"SchemaVersion"`
	ID            string          `json:"Id"`
	ProductArn    string          `json:"ProductArn"`
	GeneratorID   string          `json:"GeneratorId"`
	AwsAccountID  string          `json:"AwsAccountId"`
	Types         []string        `json:"Types"`
	CreatedAt     string          `json:"CreatedAt"`
	UpdatedAt     string          `json:"UpdatedAt"`
	Severity      asffSeverity    `json:"Severity"`
	Title         string          `json:"Title"`
	Description   string          `json:"Description"`
	Remediation   asffRemediation `json:"Remediation"`
	Resources     []asffResource  `json:"Resources"`
	Compliance    asffCompliance  `json:"Compliance"`
}

type asffSeverity struct {
	Label string `json:"Label"`
}

type asffRemediation struct {
	Recommendation struct {
		Text string `json:"Text"`
	} `json:"Recommendation"`
}

type asffResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition"`
	Region    string `json:"Region"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

// asffSchema is the only ASFF schema version.
const asffSchema = "2018-10-08"

// ToASFF makes one finding per failing row (a pending or held-back change,
// an unmuted finding), for the account's default product in region: a
// custom integration imports to arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default.
func ToASFF(rows []Row, partition, region string, now time.Time) []ASFF {
	var out []ASFF
	for _, r := range rows {
		if r.Status != Fail && r.Status != Held && r.Status != Finding {
			continue
		}
		t := r.Time.UTC().Format(time.RFC3339)
		if r.Time.IsZero() {
			t = now.UTC().Format(time.RFC3339)
		}
		res := resourceOf(r, partition, region)
		f := ASFF{
			SchemaVersion: asffSchema,
			ID:            "s3baseline/" + r.Account + "/" + res.ID + "/" + string(r.Control),
			ProductArn:    "arn:" + partition + ":securityhub:" + region + ":" + r.Account + ":product/" + r.Account + "/default",
			GeneratorID:   "s3baseline/" + string(r.Control),
			AwsAccountID:  r.Account,
			Types:         []string{"Software and Configuration Checks/Industry and Regulatory Standards/NIST 800-53 Controls"},
			CreatedAt:     t,
			UpdatedAt:     now.UTC().Format(time.RFC3339),
			Severity:      asffSeverity{Label: baselines.Severity(r.Control)},
			Title:         cut("s3baseline "+string(r.Control)+": "+title(r), 256),
			Description:   cut(r.Detail, 1024),
			Resources:     []asffResource{res},
			Compliance:    asffCompliance{Status: "FAILED"},
		}
		f.Remediation.Recommendation.Text = cut(remedy(r), 512)
		for _, n := range r.NIST {
			f.Compliance.RelatedRequirements = append(f.Compliance.RelatedRequirements, "NIST.800-53.r5 "+n)
		}
		out = append(out, f)
	}
	return out
}

// WriteASFF writes the findings as a JSON array.
func WriteASFF(w io.Writer, findings []ASFF) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if findings == nil {
		findings = []ASFF{}
	}
	return enc.Encode(findings)
}

func resourceOf(r Row, partition, region string) asffResource {
	switch {
	case r.Resource != "":
		reg := r.Region
		if reg == "" {
			reg = region
		}
		return asffResource{Type: "AwsS3Bucket", ID: settings.BucketARN(partition, r.Resource), Partition: partition, Region: reg}
	case strings.Contains(r.Subject, ":iam::") && strings.Contains(r.Subject, ":user/"):
		return asffResource{Type: "AwsIamUser", ID: r.Subject, Partition: partition, Region: region}
	case strings.Contains(r.Subject, ":accesspoint/"):
		return asffResource{Type: "AwsS3AccessPoint", ID: r.Subject, Partition: partition, Region: region}
	}
	return asffResource{Type: "AwsAccount", ID: "AWS::::Account:" + r.Account, Partition: partition, Region: region}
}

func title(r Row) string {
	switch r.Status {
	case Held:
		return "not compliant, change held back"
	case Finding:
		return "not compliant (report only)"
	}
	return "not compliant, change planned"
}

func remedy(r Row) string {
	if r.After != "" {
		return "s3baseline apply sets it to " + r.After
	}
	return r.Detail
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
