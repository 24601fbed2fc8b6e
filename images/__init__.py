"""The step container images: one Dockerfile target per step (`python -m images build|push`)."""
