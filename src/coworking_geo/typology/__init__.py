"""Models of places, territory profiles, economic models and siting."""
