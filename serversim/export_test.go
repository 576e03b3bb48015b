package serversim

// ConfigOf is the configuration s runs with, defaults filled in.
func ConfigOf(s *Server) Config { return s.cfg }

// SetProxyURL points s at another proxy.
func SetProxyURL(s *Server, url string) { s.cfg.ProxyURL = url }

// SessionToken is the bearer secret of session id.
func SessionToken(s *Server, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id].secret
}
