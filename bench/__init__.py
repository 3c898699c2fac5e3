"""`make bench`: speed and size figures. Each module here has `run() -> list[tuple[str, str]]`."""
