package liveactivity

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// States of an activity as ActivityKit names them (ActivityState).
const (
	StateActive    = "active"
	StateStale     = "stale"
	StateEnded     = "ended"
	StateDismissed = "dismissed"
)

// Why an update is dropped, as iOS drops it without a word.
var (
	ErrOutOfOrder = errors.New("liveactivity: timestamp not newer than the last update applied")
	ErrFuture     = errors.New("liveactivity: timestamp more than 8 hours ahead")
	ErrNotRunning = errors.New("liveactivity: the activity has ended")
	ErrNoActivity = errors.New("liveactivity: no such activity")
)

// Activity is one Live Activity on a device.
type Activity struct {
	ID             string          `json:"id"`
	App            string          `json:"app"`
	AttributesType string          `json:"attributes_type"`
	Attributes     json.RawMessage `json:"attributes"`
	ContentState   json.RawMessage `json:"content_state"`
	State          string          `json:"state"` // at the time of the snapshot
	RelevanceScore *float64        `json:"relevance_score,omitempty"`
	UpdateToken    string          `json:"update_token,omitempty"` // per-activity push token, if asked for
	Channel        string          `json:"channel,omitempty"`      // broadcast channel it listens on
	StartedAt      time.Time       `json:"started_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	EndedAt        time.Time       `json:"ended_at,omitzero"`
	StaleDate      time.Time       `json:"stale_date,omitzero"`
	DismissalDate  time.Time       `json:"dismissal_date,omitzero"`
	LastTimestamp  int64           `json:"last_timestamp"`
	Updates        int             `json:"updates"` // pushes applied after the start
}

// stateAt is the activity's state at now: an active one turns stale at its
// stale date and ends after MaxActive; an ended one is dismissed at its
// dismissal date (MaxEndedShown after the end when none was given).
func (a *Activity) stateAt(now time.Time) string {
	if a.EndedAt.IsZero() && now.Sub(a.StartedAt) >= MaxActive {
		a.EndedAt = a.StartedAt.Add(MaxActive)
	}
	if !a.EndedAt.IsZero() {
		dismiss := a.DismissalDate
		if dismiss.IsZero() {
			dismiss = a.EndedAt.Add(MaxEndedShown)
		}
		if !now.Before(dismiss) {
			return StateDismissed
		}
		return StateEnded
	}
	if !a.StaleDate.IsZero() && !now.Before(a.StaleDate) {
		return StateStale
	}
	return StateActive
}

// Store holds a device's Live Activities; its clock is the device's.
type Store struct {
	mu   sync.Mutex
	now  func() time.Time
	seq  int
	acts map[string]*Activity
}

// NewStore makes an empty store reading time from now (nil: time.Now).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, acts: map[string]*Activity{}}
}

// Start starts an activity of app from a start payload.
func (s *Store) Start(app string, p Payload) (Activity, error) {
	if p.Event != EventStart {
		return Activity{}, fmt.Errorf("%w: %s is not a start", ErrPayload, p.Event)
	}
	now := s.now()
	if err := checkTimestamp(p.Timestamp, 0, now); err != nil {
		return Activity{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	a := &Activity{ID: fmt.Sprintf("activity-%d", s.seq), App: app, AttributesType: p.AttributesType, Attributes: p.Attributes,
		ContentState: p.ContentState, RelevanceScore: p.RelevanceScore, StartedAt: now, UpdatedAt: now,
		LastTimestamp: p.Timestamp, Channel: p.InputChannel}
	if p.StaleDate != 0 {
		a.StaleDate = time.Unix(p.StaleDate, 0)
	}
	s.acts[a.ID] = a
	out := *a
	out.State = a.stateAt(now)
	return out, nil
}

// SetUpdateToken records the push token the system got for activity id.
func (s *Store) SetUpdateToken(id, token string) {
	s.mu.Lock()
	if a := s.acts[id]; a != nil {
		a.UpdateToken = token
	}
	s.mu.Unlock()
}

// Apply applies an update or end payload to activity id.
func (s *Store) Apply(id string, p Payload) (Activity, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acts[id]
	if a == nil {
		return Activity{}, ErrNoActivity
	}
	if p.Event == EventStart {
		return *a, fmt.Errorf("%w: start sent to a running activity", ErrPayload)
	}
	if st := a.stateAt(now); st == StateEnded || st == StateDismissed {
		return *a, ErrNotRunning
	}
	// "end" is applied whatever its timestamp (Apple's forum answer); an
	// update must be newer than the last one applied.
	if p.Event == EventUpdate {
		if err := checkTimestamp(p.Timestamp, a.LastTimestamp, now); err != nil {
			return *a, err
		}
	}
	if p.Timestamp > a.LastTimestamp {
		a.LastTimestamp = p.Timestamp
	}
	if p.ContentState != nil {
		a.ContentState = p.ContentState
	}
	if p.StaleDate != 0 {
		a.StaleDate = time.Unix(p.StaleDate, 0)
	}
	if p.RelevanceScore != nil {
		a.RelevanceScore = p.RelevanceScore
	}
	a.UpdatedAt = now
	a.Updates++
	if p.Event == EventEnd {
		a.EndedAt = now
		if p.DismissalDate != 0 {
			a.DismissalDate = time.Unix(p.DismissalDate, 0)
		}
	}
	out := *a
	out.State = a.stateAt(now)
	return out, nil
}

func checkTimestamp(ts, last int64, now time.Time) error {
	if ts <= last {
		return ErrOutOfOrder
	}
	if time.Unix(ts, 0).Sub(now) > MaxFutureSkew {
		return ErrFuture
	}
	return nil
}

// ByToken finds the activity whose update token is token.
func (s *Store) ByToken(token string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, a := range s.acts {
		if a.UpdateToken == token {
			return id, true
		}
	}
	return "", false
}

// OnChannel lists the activities listening on channel.
func (s *Store) OnChannel(channel string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, a := range s.acts {
		if a.Channel == channel {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// List returns every activity as it stands by the device clock (dismissed
// ones included: the record stays, the Lock Screen no longer shows it).
func (s *Store) List() []Activity {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Activity, 0, len(s.acts))
	for _, a := range s.acts {
		c := *a
		c.State = a.stateAt(now)
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Activity) int { return x.StartedAt.Compare(y.StartedAt)*2 + cmpString(x.ID, y.ID) })
	return out
}

// Get returns activity id as it stands now.
func (s *Store) Get(id string) (Activity, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acts[id]
	if a == nil {
		return Activity{}, false
	}
	c := *a
	c.State = a.stateAt(now)
	return c, true
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
