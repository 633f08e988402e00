"""The source catalogue, retrieval, integrity checks and the official-layout readers."""
