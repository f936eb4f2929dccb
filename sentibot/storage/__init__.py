"""Storage: typed models, engine and session factories, named queries. Every part imports this."""
