"""Seed sweeps: one preset trained over many seeds, summarised as mean ± std, min and max.

    gankit sweep ring-2d --seeds 0-9 --out sweeps/ring-2d

runner.py trains the seeds (through `gankit train`, or batched.py's vectorised group for the toy
MLP presets), seeds.py reads "0-9,12" seed lists, summary.py writes the table, summary.json and
summary.html.
"""
