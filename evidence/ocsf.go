package evidence

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
)

// OCSF is one finding of the Open Cybersecurity Schema Framework's
// Compliance Finding class (class_uid 2003 in category 2, Findings; OCSF
// 1.1), one per failing bucket and control, for tools that read OCSF
// (Amazon Security Lake, SIEMs). The class's required attributes are set;
// the document is not validated against the OCSF schema, which is not
// available here.
type OCSF struct {
	ActivityID  int               `json:"activity_id"`
	CategoryUID int               `json:"category_uid"`
	ClassUID    int               `json:"class_uid"`
	TypeUID     int               `json:"type_uid"`
	SeverityID  int               `json:"severity_id"`
	Severity    string            `json:"severity"`
	StatusID    int               `json:"status_id"`
	Status      string            `json:"status"`
	Time        int64             `json:"time"`
	Metadata    ocsfMetadata      `json:"metadata"`
	FindingInfo ocsfFindingInfo   `json:"finding_info"`
	Compliance  ocsfCompliance    `json:"compliance"`
	Resources   []ocsfResource    `json:"resources"`
	Cloud       ocsfCloud         `json:"cloud"`
	Unmapped    map[string]string `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version string      `json:"version"`
	Product ocsfProduct `json:"product"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

type ocsfFindingInfo struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Desc        string `json:"desc"`
	CreatedTime int64  `json:"created_time"`
}

type ocsfCompliance struct {
	Control      string   `json:"control"`
	Requirements []string `json:"requirements"`
	Standards    []string `json:"standards"`
	Status       string   `json:"status"`
	StatusID     int      `json:"status_id"`
}

type ocsfResource struct {
	Type   string `json:"type"`
	UID    string `json:"uid"`
	Region string `json:"region,omitempty"`
}

type ocsfCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  ocsfAccount `json:"account"`
}

type ocsfAccount struct {
	UID string `json:"uid"`
}

// OCSF enumerations used: activity Create (1), finding status New (1),
// compliance status Fail (3), and the severities.
const (
	ocsfClassCompliance = 2003
	ocsfCategoryFinding = 2
	ocsfActivityCreate  = 1
	ocsfComplianceFail  = 3
	ocsfStatusNew       = 1
)

var ocsfSeverity = map[string]int{"LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}

// ToOCSF makes one Compliance Finding per failing row.
func ToOCSF(rows []Row, partition, toolVersion string, now time.Time) []OCSF {
	var out []OCSF
	for _, r := range rows {
		if r.Status != Fail && r.Status != Held && r.Status != Finding {
			continue
		}
		res := resourceOf(r, partition, r.Region)
		sev := baselines.Severity(r.Control)
		created := r.Time
		if created.IsZero() {
			created = now
		}
		out = append(out, OCSF{
			ActivityID: ocsfActivityCreate, CategoryUID: ocsfCategoryFinding, ClassUID: ocsfClassCompliance,
			TypeUID:    ocsfClassCompliance*100 + ocsfActivityCreate,
			SeverityID: ocsfSeverity[sev], Severity: titleCase(sev),
			StatusID: ocsfStatusNew, Status: "New",
			Time:     now.UnixMilli(),
			Metadata: ocsfMetadata{Version: "1.1.0", Product: ocsfProduct{Name: "s3baseline", VendorName: "s3baseline", Version: toolVersion}},
			FindingInfo: ocsfFindingInfo{UID: "s3baseline/" + r.Account + "/" + res.ID + "/" + string(r.Control),
				Title: "s3baseline " + string(r.Control) + ": " + title(r), Desc: r.Detail, CreatedTime: created.UnixMilli()},
			Compliance: ocsfCompliance{Control: string(r.Control), Requirements: nistRequirements(r.NIST),
				Standards: []string{"NIST SP 800-53 Rev. 5"}, Status: "Fail", StatusID: ocsfComplianceFail},
			Resources: []ocsfResource{{Type: res.Type, UID: res.ID, Region: res.Region}},
			Cloud:     ocsfCloud{Provider: "AWS", Region: r.Region, Account: ocsfAccount{UID: r.Account}},
		})
	}
	return out
}

// WriteOCSF writes the findings as a JSON array.
func WriteOCSF(w io.Writer, findings []OCSF) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if findings == nil {
		findings = []OCSF{}
	}
	return enc.Encode(findings)
}

func nistRequirements(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "NIST SP 800-53 " + id
	}
	return out
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}
