package evidence

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// OSCAL assessment results (NIST OSCAL 1.1.3): one result per plan, an
// observation per bucket (or account) and control with the evidence (the
// observed setting, the change the plan makes), and a finding per NIST
// control with its target's state. UUIDs are derived from what they name
// (version 5, SHA-1), so the same plan gives the same document.

const oscalVersion = "1.1.3"

type oscalDoc struct {
	AR oscalAR `json:"assessment-results"`
}

type oscalAR struct {
	UUID     string        `json:"uuid"`
	Metadata oscalMetadata `json:"metadata"`
	ImportAP oscalImportAP `json:"import-ap"`
	Results  []oscalResult `json:"results"`
}

type oscalMetadata struct {
	Title        string `json:"title"`
	LastModified string `json:"last-modified"`
	Version      string `json:"version"`
	OSCALVersion string `json:"oscal-version"`
}

type oscalImportAP struct {
	Href string `json:"href"`
}

type oscalResult struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title"`
	Description      string             `json:"description"`
	Start            string             `json:"start"`
	ReviewedControls oscalReviewed      `json:"reviewed-controls"`
	Observations     []oscalObservation `json:"observations,omitempty"`
	Findings         []oscalFinding     `json:"findings,omitempty"`
}

type oscalReviewed struct {
	ControlSelections []oscalSelection `json:"control-selections"`
}

type oscalSelection struct {
	IncludeControls []oscalControlID `json:"include-controls"`
}

type oscalControlID struct {
	ControlID string `json:"control-id"`
}

type oscalObservation struct {
	UUID             string          `json:"uuid"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Methods          []string        `json:"methods"`
	Types            []string        `json:"types"`
	RelevantEvidence []oscalEvidence `json:"relevant-evidence,omitempty"`
	Collected        string          `json:"collected"`
}

type oscalEvidence struct {
	Description string `json:"description"`
}

type oscalFinding struct {
	UUID                string           `json:"uuid"`
	Title               string           `json:"title"`
	Description         string           `json:"description"`
	Target              oscalTarget      `json:"target"`
	RelatedObservations []oscalRelatedOb `json:"related-observations,omitempty"`
}

type oscalTarget struct {
	Type     string      `json:"type"`
	TargetID string      `json:"target-id"`
	Status   oscalStatus `json:"status"`
}

type oscalStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

type oscalRelatedOb struct {
	ObservationUUID string `json:"observation-uuid"`
}

// nameUUID is a version 5 UUID of name (RFC 4122 §4.3, SHA-1 in the URL
// namespace), so a document is reproducible.
func nameUUID(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.Sum(append(ns, name...))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// oscalControl is a NIST SP 800-53 control id as OSCAL's catalog names it:
// "AC-3(7)" is "ac-3.7".
func oscalControl(id string) string {
	id = strings.ToLower(id)
	id = strings.ReplaceAll(id, "(", ".")
	return strings.ReplaceAll(id, ")", "")
}

// PlanRows are one plan's rows, for WriteOSCAL.
type PlanRows struct {
	Source  string
	Created time.Time
	Rows    []Row
}

// WriteOSCAL writes the plans' rows as one OSCAL assessment-results
// document: one result per plan.
func WriteOSCAL(w io.Writer, plans []PlanRows, toolVersion string, now time.Time) error {
	doc := oscalDoc{AR: oscalAR{
		UUID: nameUUID("s3baseline:assessment-results:" + now.UTC().Format(time.RFC3339Nano)),
		Metadata: oscalMetadata{Title: "s3baseline assessment of S3 buckets against NIST SP 800-53 baselines",
			LastModified: now.UTC().Format(time.RFC3339), Version: toolVersion, OSCALVersion: oscalVersion},
		// The assessment plan is the baseline the plans name; no OSCAL
		// assessment-plan document exists for it, so the reference is a
		// fragment naming it.
		ImportAP: oscalImportAP{Href: "#s3baseline-assessment-plan"},
	}}
	for _, p := range plans {
		res := oscalResult{
			UUID:        nameUUID("s3baseline:result:" + p.Source),
			Title:       "s3baseline plan " + p.Source,
			Description: "Observed S3 bucket and account settings compared with their baselines; each observation is one bucket (or account) and control, with the change the plan makes.",
			Start:       p.Created.UTC().Format(time.RFC3339),
		}
		byControl := map[string][]string{} // NIST control -> observation uuids
		failing := map[string]bool{}
		for _, r := range p.Rows {
			if r.Control == "" || r.Status == Exempt {
				continue
			}
			where := r.Resource
			if where == "" {
				where = "account " + r.Account
			}
			ob := oscalObservation{
				UUID:        nameUUID(strings.Join([]string{"s3baseline:observation", p.Source, r.Account, r.Resource, r.Subject, string(r.Control)}, ":")),
				Title:       string(r.Control) + " on " + where,
				Description: r.Status + ": " + nonEmpty(r.Detail, string(r.Control)),
				Methods:     []string{"TEST"},
				Types:       []string{"finding"},
				Collected:   p.Created.UTC().Format(time.RFC3339),
			}
			if r.Before != "" || r.After != "" {
				ob.RelevantEvidence = []oscalEvidence{{Description: "observed " + nonEmpty(r.Before, "(not configured)") + "; the plan changes it to " + nonEmpty(r.After, "(not configured)")}}
			}
			if r.Made != "" {
				ob.RelevantEvidence = append(ob.RelevantEvidence, oscalEvidence{Description: "the change was " + r.Made})
			}
			res.Observations = append(res.Observations, ob)
			for _, n := range r.NIST {
				c := oscalControl(n)
				byControl[c] = append(byControl[c], ob.UUID)
				if r.Status != Pass && r.Status != Fixed && r.Status != Muted {
					failing[c] = true
				}
			}
		}
		var ids []string
		for c := range byControl {
			ids = append(ids, c)
		}
		slices.Sort(ids)
		sel := oscalSelection{}
		for _, c := range ids {
			sel.IncludeControls = append(sel.IncludeControls, oscalControlID{ControlID: c})
			f := oscalFinding{
				UUID:        nameUUID("s3baseline:finding:" + p.Source + ":" + c),
				Title:       "NIST SP 800-53 " + strings.ToUpper(c),
				Description: fmt.Sprintf("%d observations of the s3baseline controls that implement %s", len(byControl[c]), strings.ToUpper(c)),
				Target:      oscalTarget{Type: "objective-id", TargetID: c + "_obj", Status: oscalStatus{State: "satisfied", Reason: "pass"}},
			}
			if failing[c] {
				f.Target.Status = oscalStatus{State: "not-satisfied", Reason: "fail"}
			}
			for _, u := range byControl[c] {
				f.RelatedObservations = append(f.RelatedObservations, oscalRelatedOb{ObservationUUID: u})
			}
			res.Findings = append(res.Findings, f)
		}
		res.ReviewedControls = oscalReviewed{ControlSelections: []oscalSelection{sel}}
		doc.AR.Results = append(doc.AR.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func nonEmpty(s, or string) string {
	if strings.TrimSpace(s) == "" {
		return or
	}
	return s
}
