"""Operating Triad: the reports and commands an operator uses, over the servers' own store."""
