"""HTTP routes, one concept per module; each parses, makes one service call and formats."""
