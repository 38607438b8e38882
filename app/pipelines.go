package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// Pipelines and stages (R-T1): each account has at least one pipeline; the
// default one, "Support" with the stages New, Waiting and Closed, is
// created the first time tickets are used.

// Pipeline limits.
const (
	maxPipelineName = 100
	maxStages       = 50
)

// defaultPipelineName and defaultStages make the account's first pipeline.
var (
	defaultPipelineName = "Support"
	defaultStages       = []string{"New", "Waiting", "Closed"}
)

// StageInput is one stage of a pipeline input, in order. ID keeps an
// existing stage (rename or move it); without one a stage is new.
type StageInput struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// PipelineInput creates a pipeline.
type PipelineInput struct {
	Name   string       `json:"name"`
	Stages []StageInput `json:"stages"`
}

// PipelinePatch changes the fields that are set. Stages replaces the whole
// ordered list: stages left out are removed, which is refused while
// tickets are in them.
type PipelinePatch struct {
	Name   *string       `json:"name,omitempty"`
	Stages *[]StageInput `json:"stages,omitempty"`
}

// newDefaultPipeline returns the account's default pipeline, not stored.
func (s *Service) newDefaultPipeline(accountID string) *sb.Pipeline {
	now := s.Now()
	p := &sb.Pipeline{ID: s.newID(), AccountID: accountID, Name: defaultPipelineName, CreatedAt: now, UpdatedAt: now}
	for _, name := range defaultStages {
		p.Stages = append(p.Stages, sb.Stage{ID: s.newID(), Name: name})
	}
	return p
}

// ensurePipelines returns the account's pipelines, creating the default one
// if it has none.
func (s *Service) ensurePipelines(ctx context.Context, tx sb.Tx, accountID string) ([]*sb.Pipeline, error) {
	ps, err := tx.Pipelines(ctx, accountID)
	if err != nil || len(ps) > 0 {
		return ps, err
	}
	p := s.newDefaultPipeline(accountID)
	if err := tx.CreatePipeline(ctx, p); err != nil {
		return nil, err
	}
	return []*sb.Pipeline{p}, nil
}

// findPipeline finds a pipeline by id, then by name (exactly, then
// ignoring case); nil if none matches.
func findPipeline(ps []*sb.Pipeline, ref string) *sb.Pipeline {
	if ref == "" {
		return nil
	}
	for _, p := range ps {
		if p.ID == ref || p.Name == ref {
			return p
		}
	}
	for _, p := range ps {
		if strings.EqualFold(p.Name, ref) {
			return p
		}
	}
	return nil
}

// findStage finds a stage of p by id, then by name (exactly, then ignoring
// case).
func findStage(p *sb.Pipeline, ref string) (sb.Stage, bool) {
	if ref == "" {
		return sb.Stage{}, false
	}
	for _, st := range p.Stages {
		if st.ID == ref || st.Name == ref {
			return st, true
		}
	}
	for _, st := range p.Stages {
		if strings.EqualFold(st.Name, ref) {
			return st, true
		}
	}
	return sb.Stage{}, false
}

// placement resolves a (pipeline, stage) reference for a new ticket the
// way channel settings and form fields give it: by id or name. An unknown
// or empty pipeline is the account's first (default) one; an unknown or
// empty stage is the pipeline's first stage. fellBack reports that a
// non-empty reference did not match.
func placement(ps []*sb.Pipeline, pipelineRef, stageRef string) (p *sb.Pipeline, st sb.Stage, fellBack bool) {
	p = findPipeline(ps, pipelineRef)
	if p == nil {
		p, fellBack = ps[0], pipelineRef != ""
	}
	st, ok := findStage(p, stageRef)
	if !ok {
		st, fellBack = p.Stages[0], fellBack || stageRef != ""
	}
	return p, st, fellBack
}

// ListPipelines returns the account's pipelines, oldest first, creating the
// default one on first use. Any user may read them.
func (s *Service) ListPipelines(ctx context.Context, a Actor) ([]*sb.Pipeline, error) {
	const op = "app.ListPipelines"
	var ps []*sb.Pipeline
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		ps, err = tx.Pipelines(ctx, a.AccountID)
		return err
	})
	if err == nil && len(ps) == 0 {
		err = s.update(ctx, a.AccountID, func(tx sb.Tx) error {
			var err error
			ps, err = s.ensurePipelines(ctx, tx, a.AccountID)
			return err
		})
	}
	return ps, sb.Wrap(op, err)
}

// GetPipeline returns one of the account's pipelines. Any user may read it.
func (s *Service) GetPipeline(ctx context.Context, a Actor, id string) (*sb.Pipeline, error) {
	const op = "app.GetPipeline"
	var p *sb.Pipeline
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		p, err = tx.Pipeline(ctx, a.AccountID, id)
		return err
	})
	return p, sb.Wrap(op, err)
}

// CreatePipeline adds a pipeline with its ordered stages. Admins only.
func (s *Service) CreatePipeline(ctx context.Context, a Actor, in PipelineInput) (*sb.Pipeline, error) {
	const op = "app.CreatePipeline"
	if err := requirePipelineAdmin(op, a); err != nil {
		return nil, err
	}
	now := s.Now()
	p := &sb.Pipeline{AccountID: a.AccountID, Name: strings.TrimSpace(in.Name), CreatedAt: now, UpdatedAt: now}
	var err error
	if p.Stages, err = s.stages(op, nil, in.Stages); err != nil {
		return nil, err
	}
	if err := validatePipelineName(op, p.Name); err != nil {
		return nil, err
	}
	err = s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if _, err := s.ensurePipelines(ctx, tx, a.AccountID); err != nil {
			return err
		}
		p.ID = s.newID() // after the default one's: ids break ties of creation times
		return tx.CreatePipeline(ctx, p)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, pipelineNameTaken(op)
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return p, nil
}

// UpdatePipeline renames a pipeline or replaces its ordered stages. A stage
// that still holds tickets cannot be removed. Admins only.
func (s *Service) UpdatePipeline(ctx context.Context, a Actor, id string, pp PipelinePatch) (*sb.Pipeline, error) {
	const op = "app.UpdatePipeline"
	if err := requirePipelineAdmin(op, a); err != nil {
		return nil, err
	}
	var p *sb.Pipeline
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if p, err = tx.Pipeline(ctx, a.AccountID, id); err != nil {
			return err
		}
		if pp.Name != nil {
			p.Name = strings.TrimSpace(*pp.Name)
			if err := validatePipelineName(op, p.Name); err != nil {
				return err
			}
		}
		if pp.Stages != nil {
			stages, err := s.stages(op, p.Stages, *pp.Stages)
			if err != nil {
				return err
			}
			if err := checkRemovedStages(ctx, tx, op, p, stages); err != nil {
				return err
			}
			p.Stages = stages
		}
		p.UpdatedAt = s.Now()
		return tx.UpdatePipeline(ctx, p)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, pipelineNameTaken(op)
	}
	if sb.IsKind(err, sb.NotFound) {
		return nil, sb.E(op, sb.NotFound, "not_found", "no such pipeline")
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return p, nil
}

func pipelineNameTaken(op string) error {
	return &sb.Error{Op: op, Kind: sb.Conflict, Code: "pipeline_name_taken", Field: "name", Message: "a pipeline with this name already exists"}
}

func validatePipelineName(op, name string) error {
	if name == "" {
		return sb.Invalidf(op, "name", "name is required")
	}
	if utf8.RuneCountInString(name) > maxPipelineName {
		return sb.Invalidf(op, "name", "name is longer than %d characters", maxPipelineName)
	}
	return nil
}

// stages turns the input into the pipeline's ordered stages: ids of
// existing stages are kept, new stages get new ids. Names are required
// and unique (ignoring case).
func (s *Service) stages(op string, existing []sb.Stage, in []StageInput) ([]sb.Stage, error) {
	if len(in) == 0 {
		return nil, sb.Invalidf(op, "stages", "a pipeline needs at least one stage")
	}
	if len(in) > maxStages {
		return nil, sb.Invalidf(op, "stages", "a pipeline has at most %d stages", maxStages)
	}
	known := map[string]bool{}
	for _, st := range existing {
		known[st.ID] = true
	}
	seenName, seenID := map[string]bool{}, map[string]bool{}
	out := make([]sb.Stage, 0, len(in))
	for i, si := range in {
		name := strings.TrimSpace(si.Name)
		field := fmt.Sprintf("stages[%d]", i)
		switch {
		case name == "":
			return nil, sb.Invalidf(op, field+".name", "every stage needs a name")
		case utf8.RuneCountInString(name) > maxPipelineName:
			return nil, sb.Invalidf(op, field+".name", "a stage name is at most %d characters", maxPipelineName)
		case seenName[strings.ToLower(name)]:
			return nil, sb.Invalidf(op, field+".name", "stage %q appears twice", name)
		case si.ID != "" && !known[si.ID]:
			return nil, sb.Invalidf(op, field+".id", "stage id %q is not a stage of this pipeline; leave id out for a new stage", si.ID)
		case si.ID != "" && seenID[si.ID]:
			return nil, sb.Invalidf(op, field+".id", "stage id %q appears twice", si.ID)
		}
		seenName[strings.ToLower(name)] = true
		id := si.ID
		if id == "" {
			id = s.newID()
		}
		seenID[id] = true
		out = append(out, sb.Stage{ID: id, Name: name})
	}
	return out, nil
}

// checkRemovedStages refuses to drop a stage that tickets are in.
func checkRemovedStages(ctx context.Context, tx sb.Tx, op string, p *sb.Pipeline, next []sb.Stage) error {
	kept := map[string]bool{}
	for _, st := range next {
		kept[st.ID] = true
	}
	var removed []sb.Stage
	for _, st := range p.Stages {
		if !kept[st.ID] {
			removed = append(removed, st)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	counts, err := tx.StageTicketCounts(ctx, p.AccountID, p.ID)
	if err != nil {
		return err
	}
	for _, st := range removed {
		if n := counts[st.ID]; n > 0 {
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "stage_in_use", Field: "stages",
				Message: fmt.Sprintf("stage %q still holds %d ticket(s); move them to another stage before removing it", st.Name, n)}
		}
	}
	return nil
}
