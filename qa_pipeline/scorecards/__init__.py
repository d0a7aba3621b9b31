"""Agent, team and center scorecards (pandas), the service-language ranking, weekly report."""
