"""The engine: obtaining micromamba and running it sandboxed, child processes and signals."""
