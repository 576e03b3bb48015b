package mockfcm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// MaxConditionTopics: "You can include up to five topics in your conditional expression."
const MaxConditionTopics = 5

// maxConditionLen bounds what the condition parser reads (nesting depth too).
const maxConditionLen = 1000

// Condition is a parsed FCM condition such as
// "'stock' in topics && ('dogs' in topics || 'cats' in topics)".
type Condition struct {
	root   condNode
	topics []string
}

// Topics lists the topics the condition names.
func (c *Condition) Topics() []string { return append([]string(nil), c.topics...) }

// Match evaluates the condition for a device subscribed to the given topics.
func (c *Condition) Match(subscribed func(topic string) bool) bool { return c.root.eval(subscribed) }

type condNode interface {
	eval(func(string) bool) bool
}

type (
	condTopic string
	condNot   struct{ x condNode }
	condAnd   struct{ a, b condNode }
	condOr    struct{ a, b condNode }
)

func (t condTopic) eval(in func(string) bool) bool { return in(string(t)) }
func (n condNot) eval(in func(string) bool) bool   { return !n.x.eval(in) }
func (n condAnd) eval(in func(string) bool) bool   { return n.a.eval(in) && n.b.eval(in) }
func (n condOr) eval(in func(string) bool) bool    { return n.a.eval(in) || n.b.eval(in) }

// ErrCondition is returned for a condition FCM would refuse.
var ErrCondition = errors.New("mockfcm: invalid condition expression")

// ParseCondition parses FCM's condition language: 'topic' in topics, joined
// with && and ||, negated with !, grouped with parentheses (&& binds tighter),
// naming at most MaxConditionTopics topics.
func ParseCondition(s string) (*Condition, error) {
	if len(s) > maxConditionLen {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrCondition, maxConditionLen)
	}
	p := &condParser{s: s}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail("unexpected %q", p.s[p.i:])
	}
	if len(p.topics) > MaxConditionTopics {
		return nil, fmt.Errorf("%w: %d topics, at most %d", ErrCondition, len(p.topics), MaxConditionTopics)
	}
	return &Condition{root: n, topics: p.topics}, nil
}

type condParser struct {
	s      string
	i      int
	topics []string
}

func (p *condParser) fail(format string, args ...any) error {
	return fmt.Errorf("%w at %d: %s", ErrCondition, p.i, fmt.Sprintf(format, args...))
}

func (p *condParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *condParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

const maxConditionDepth = 32

func (p *condParser) or(depth int) (condNode, error) {
	a, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.eat("||") {
		b, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		a = condOr{a, b}
	}
	return a, nil
}

func (p *condParser) and(depth int) (condNode, error) {
	a, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.eat("&&") {
		b, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		a = condAnd{a, b}
	}
	return a, nil
}

func (p *condParser) unary(depth int) (condNode, error) {
	if depth > maxConditionDepth {
		return nil, p.fail("nested too deep")
	}
	switch {
	case p.eat("!"):
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return condNot{x}, nil
	case p.eat("("):
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.fail("missing )")
		}
		return x, nil
	}
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return nil, p.fail("want 'topic' in topics")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return nil, p.fail("unterminated topic name")
	}
	name := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	if !validTopic(name) {
		return nil, p.fail("bad topic name %q", name)
	}
	if !p.eat("in") || !p.eat("topics") {
		return nil, p.fail("want in topics")
	}
	p.topics = append(p.topics, name)
	return condTopic(name), nil
}

// subscriptions are topic memberships, per Firebase project.
type subscriptions struct {
	mu      sync.RWMutex
	byToken map[string]map[string]bool            // token → topics
	byTopic map[string]map[string]map[string]bool // project → topic → tokens
}

func newSubscriptions() *subscriptions {
	return &subscriptions{byToken: map[string]map[string]bool{}, byTopic: map[string]map[string]map[string]bool{}}
}

func (s *subscriptions) add(project, token, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byToken[token] == nil {
		s.byToken[token] = map[string]bool{}
	}
	s.byToken[token][topic] = true
	if s.byTopic[project] == nil {
		s.byTopic[project] = map[string]map[string]bool{}
	}
	if s.byTopic[project][topic] == nil {
		s.byTopic[project][topic] = map[string]bool{}
	}
	s.byTopic[project][topic][token] = true
}

// addLimited adds a subscription unless token already has max others.
func (s *subscriptions) addLimited(project, token, topic string, max int) bool {
	s.mu.RLock()
	mine := s.byToken[token]
	full := len(mine) >= max && !mine[topic]
	s.mu.RUnlock()
	if full {
		return false
	}
	s.add(project, token, topic)
	return true
}

func (s *subscriptions) remove(project, token, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byToken[token], topic)
	if len(s.byToken[token]) == 0 {
		delete(s.byToken, token)
	}
	if subs := s.byTopic[project][topic]; subs != nil {
		delete(subs, token)
		if len(subs) == 0 {
			delete(s.byTopic[project], topic)
		}
	}
}

// forget drops every subscription of token (its app was uninstalled).
func (s *subscriptions) forget(project, token string) {
	s.mu.RLock()
	var topics []string
	for t := range s.byToken[token] {
		topics = append(topics, t)
	}
	s.mu.RUnlock()
	for _, t := range topics {
		s.remove(project, token, t)
	}
}

// topicsOf lists the topics token is subscribed to.
func (s *subscriptions) topicsOf(token string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.byToken[token]))
	for t := range s.byToken[token] {
		out = append(out, t)
	}
	return out
}

// audience is the tokens of project a topic or condition message reaches.
// A condition reaches devices subscribed to at least one topic it names and
// for which it holds.
func (s *subscriptions) audience(project, topic string, cond *Condition) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	if cond == nil {
		for t := range s.byTopic[project][topic] {
			out = append(out, t)
		}
		return out
	}
	seen := map[string]bool{}
	for _, name := range cond.topics {
		for t := range s.byTopic[project][name] {
			if seen[t] {
				continue
			}
			seen[t] = true
			mine := s.byToken[t]
			if cond.Match(func(x string) bool { return mine[x] }) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Instance ID topic management (what messaging.Client.SubscribeToTopic calls).
// Results are per token: {} on success, else {"error": CODE}, CODE being one
// of the four the Admin SDKs map (firebase-admin-go's topic management
// error table): NOT_FOUND, INVALID_ARGUMENT, INTERNAL (never produced
// here) and TOO_MANY_TOPICS.
const (
	iidNotFound        = "NOT_FOUND"        // the token is unknown, uninstalled, or expired
	iidInvalidArgument = "INVALID_ARGUMENT" // the token is malformed, or another project's
	iidTooManyTopics   = "TOO_MANY_TOPICS"  // the instance already has MaxTopicsPerInstance topics
)

// iidEndpoint serves POST /iid/v1:batchAdd and /iid/v1:batchRemove.
func (s *Server) iidEndpoint(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := s.record(r, s.now())
		answer := func(status int, v any) {
			rec.Status = status
			s.keep(&rec, r)
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
		g, aerr := s.authorize(r, &rec)
		if aerr != nil {
			answer(aerr.HTTPStatus, map[string]string{"error": aerr.Status})
			return
		}
		var req struct {
			To     string   `json:"to"`
			Tokens []string `json:"registration_tokens"`
		}
		body, err := readBody(w, r)
		if err == nil {
			rec.Body = truncate(string(body), maxRecordedBody)
			err = json.Unmarshal(body, &req)
		}
		switch {
		case err != nil:
			answer(400, map[string]string{"error": "InvalidJson"})
			return
		case len(req.Tokens) == 0 || len(req.Tokens) > MaxBatchInstances:
			answer(400, map[string]string{"error": "InvalidRegistrationTokens"})
			return
		}
		topic := strings.TrimPrefix(req.To, "/topics/")
		if !strings.HasPrefix(req.To, "/topics/") || !validTopic(topic) {
			answer(400, map[string]string{"error": "InvalidTopicName"})
			return
		}
		results := make([]map[string]string, len(req.Tokens))
		for i, tok := range req.Tokens {
			results[i] = map[string]string{}
			reg, ok := s.reg.Lookup(tok)
			switch {
			case !ok && !looksLikeToken(tok):
				results[i]["error"] = iidInvalidArgument
			case !ok || !reg.Installed || expired(reg, s.now()):
				results[i]["error"] = iidNotFound
			case !g.project(reg.Project):
				// Another project's token: the Admin SDKs know no sender-id
				// mismatch here; IID answers it as an invalid argument.
				results[i]["error"] = iidInvalidArgument
			case add && !s.subs.addLimited(reg.Project, tok, topic, MaxTopicsPerInstance):
				results[i]["error"] = iidTooManyTopics
			case add:
			default:
				s.subs.remove(reg.Project, tok, topic)
			}
		}
		answer(200, map[string]any{"results": results})
	}
}
