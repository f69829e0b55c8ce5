"""Demo-data fixtures (filled in with the demo generator)."""
