"""The demo ad world: synthetic sex-work ad sites served on 127.0.0.1.

``world.World`` generates ads lazily and deterministically from a seed, with exact
ground truth; ``server.DemoServer`` serves its two sites (``velvet`` and ``board``) one
day at a time; ``adtrace demo-site`` runs it from the command line. Every crawl test,
the demo and the benchmarks run against it. Nothing in it is real.
"""
