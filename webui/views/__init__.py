"""One blueprint per area; views are thin: parse, run, audit, render."""
