package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/evidence"
	"github.com/s3baseline/s3baseline/lock"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

// reportCommand is `s3baseline report`: the evidence formats of saved
// plans (an organization's shards merged) and, for applies, their run
// reports.
func reportCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write saved plans as evidence: csv (a row per bucket and control), md (a summary for a ticket), asff (Security Hub findings) or oscal (assessment results)",
		ArgsUsage: "PLAN|RUNREPORT|s3://BUCKET/PREFIX...",
		Before:    setLogFormat(e),
		Flags: append(connectionFlags(),
			&cli.StringFlag{Name: "format", Value: "md", Usage: "`FORMAT`: html (one self-contained page), csv, md, asff, ocsf (Compliance Findings) or oscal (NIST OSCAL 1.1.3 assessment results)"},
			&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of stdout"},
			&cli.StringSliceFlag{Name: "run-report", Usage: "the run report `FILE` of an apply of these plans: its fixed controls are marked fixed"},
			&cli.StringFlag{Name: "region", Usage: "the Security Hub `REGION` of --format asff (default AWS_REGION)"},
			&cli.BoolFlag{Name: "import-to-security-hub", Usage: "with --format asff, import the findings into Security Hub (BatchImportFindings, 100 at a time) in --region"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return errors.New("report needs at least one saved plan (plan --out FILE)")
			}
			var rows []evidence.Row
			var perPlan []evidence.PlanRows
			var runs []*report.Report
			partition := "aws"
			docs, err := readEvidenceInputs(c, e, c.Args().Slice())
			if err != nil {
				return err
			}
			for _, d := range docs {
				if d.run != nil {
					runs = append(runs, d.run)
					continue
				}
				own := evidence.FromPlan(d.plan)
				rows = append(rows, own...)
				perPlan = append(perPlan, evidence.PlanRows{Source: d.name, Created: d.plan.CreatedAt, Rows: own})
				for _, s := range d.plan.Sections() {
					if s.Caller != "" {
						partition = settings.PartitionOf(s.Caller)
					}
				}
			}
			if len(perPlan) == 0 {
				return errors.New("report needs at least one saved plan among its inputs (run reports add to plans: what was fixed, and the drift over time)")
			}
			for _, path := range c.StringSlice("run-report") {
				data, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("--run-report: %w", err)
				}
				var rep report.Report
				if err := json.Unmarshal(data, &rep); err != nil {
					return fmt.Errorf("--run-report %s: not a run report: %v", path, err)
				}
				runs = append(runs, &rep)
			}
			for _, rep := range runs {
				if rep.Command == "apply" {
					evidence.MarkFixed(rows, rep)
				}
			}
			evidence.Sort(rows)
			var buf bytes.Buffer
			switch f := c.String("format"); f {
			case "csv":
				err = evidence.WriteCSV(&buf, rows)
			case "md":
				err = evidence.WriteMarkdown(&buf, rows)
			case "oscal":
				err = evidence.WriteOSCAL(&buf, perPlan, version, e.now())
			case "html":
				err = evidence.WriteHTML(&buf, perPlan, runs, e.now())
			case "ocsf":
				err = evidence.WriteOCSF(&buf, evidence.ToOCSF(rows, partition, version, e.now()))
			case "asff":
				region := c.String("region")
				if region == "" {
					region = os.Getenv("AWS_REGION")
				}
				if region == "" {
					return errors.New("--format asff: name the Security Hub region with --region (or AWS_REGION)")
				}
				findings := evidence.ToASFF(rows, partition, region, e.now())
				if err = evidence.WriteASFF(&buf, findings); err == nil && c.Bool("import-to-security-hub") {
					err = importFindings(c, e, region, findings)
				}
			default:
				return fmt.Errorf("--format %q: want html, csv, md, asff, ocsf or oscal", f)
			}
			if err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				return os.WriteFile(out, buf.Bytes(), 0o644)
			}
			_, err = e.stdout.Write(buf.Bytes())
			return err
		},
	}
}

// importFindings sends the findings to Security Hub in batches of 100.
func importFindings(c *cli.Context, e *env, region string, findings []evidence.ASFF) error {
	prov, err := newProvider(c, e)
	if err != nil {
		return err
	}
	docs := make([][]byte, len(findings))
	for i, f := range findings {
		if docs[i], err = json.Marshal(f); err != nil {
			return err
		}
	}
	n, failed, err := prov.ImportFindings(c.Context, region, docs)
	if err != nil {
		return err
	}
	e.info(fmt.Sprintf("Security Hub: %d findings imported in %s", n, region))
	if len(failed) > 0 {
		return fmt.Errorf("import to Security Hub: %d findings refused, the first: %s", len(failed), failed[0])
	}
	return nil
}

// evidenceDoc is one input of report: a saved plan or a run report.
type evidenceDoc struct {
	name string
	plan *plan.Plan
	run  *report.Report
}

// readEvidenceInputs reads each input: a file, or every .json object under
// an s3://BUCKET/PREFIX (an organization's shards and a schedule's reports
// are kept that way). A run report is told from a plan by its
// report_version.
func readEvidenceInputs(c *cli.Context, e *env, inputs []string) ([]evidenceDoc, error) {
	var out []evidenceDoc
	add := func(name string, data []byte) error {
		var head struct {
			ReportVersion *int `json:"report_version"`
		}
		if json.Unmarshal(data, &head) == nil && head.ReportVersion != nil {
			var rep report.Report
			if err := json.Unmarshal(data, &rep); err != nil {
				return fmt.Errorf("%s: not a run report: %v", name, err)
			}
			out = append(out, evidenceDoc{name: name, run: &rep})
			return nil
		}
		p, err := plan.Decode(name, data)
		if err != nil {
			return err
		}
		out = append(out, evidenceDoc{name: name, plan: p})
		return nil
	}
	var prov *awsprovider.Provider
	for _, in := range inputs {
		if !strings.HasPrefix(in, "s3://") {
			data, err := os.ReadFile(in)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", in, err)
			}
			if err := add(in, data); err != nil {
				return nil, err
			}
			continue
		}
		u, err := lock.ParseS3URI(in)
		if err != nil {
			return nil, err
		}
		bucket := u.Bucket
		if prov == nil {
			if prov, err = newProvider(c, e); err != nil {
				return nil, err
			}
		}
		keys, err := prov.ListObjects(c.Context, bucket, u.Prefix)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		n := 0
		for _, k := range keys {
			if !strings.HasSuffix(k, ".json") {
				continue
			}
			data, _, err := prov.GetObject(c.Context, bucket, k)
			if err != nil {
				return nil, fmt.Errorf("s3://%s/%s: %w", bucket, k, err)
			}
			if err := add("s3://"+bucket+"/"+k, data); err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no .json objects under it", in)
		}
	}
	return out, nil
}
