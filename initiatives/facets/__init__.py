"""The catalogue's facets: what each is (registry.py), the values the filter
form offers (options.py), their counts (counts.py), how PostgreSQL finds a
selection from its tokens (planning.py) and keeps those tokens (tokens.py), and
links to a selection (links.py). README.md says how to add a facet."""
