"""The FastAPI app: webhook endpoint, health and metrics."""
