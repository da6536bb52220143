package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/evidence"
	"github.com/s3baseline/s3baseline/plan"
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
		ArgsUsage: "PLANFILE...",
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
			partition := "aws"
			for _, path := range c.Args().Slice() {
				p, err := plan.ReadFile(path)
				if err != nil {
					return err
				}
				own := evidence.FromPlan(p)
				rows = append(rows, own...)
				perPlan = append(perPlan, evidence.PlanRows{Source: path, Created: p.CreatedAt, Rows: own})
				for _, s := range p.Sections() {
					if s.Caller != "" {
						partition = settings.PartitionOf(s.Caller)
					}
				}
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
				evidence.MarkFixed(rows, &rep)
			}
			evidence.Sort(rows)
			var buf bytes.Buffer
			var err error
			switch f := c.String("format"); f {
			case "csv":
				err = evidence.WriteCSV(&buf, rows)
			case "md":
				err = evidence.WriteMarkdown(&buf, rows)
			case "oscal":
				err = evidence.WriteOSCAL(&buf, perPlan, version, e.now())
			case "html":
				err = evidence.WriteHTML(&buf, perPlan, e.now())
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
		return fmt.Errorf("Security Hub refused %d findings: %s", len(failed), failed[0])
	}
	return nil
}
