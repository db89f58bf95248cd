"""Helpers the lesson notebooks call, so a lesson shows the call and not the plumbing.

Each module belongs to the lessons that use it and is documented and tested like the
engine:

- ``command_line``: lesson 03 runs ``python main.py ...`` from a notebook;
- ``negatives``: lesson 05's easy and hard negative pairs;
- ``retry_batch``: lesson 06's workers writing a batch through one simulated LLM;
- ``embed_api``: lesson 07's simulated embeddings API and the run through a batcher;
- ``monitoring``: lesson 09's simulated day, its dashboard and two load generators;
- ``scaling_day``: lesson 12's worker pool sized by a scaling policy over a day;
- ``balancing``: lesson 12b's load balancer (random, round-robin, two choices);
- ``lock_contention``: lesson 12b's workers sharing one lock (the data the USL is fit to);
- ``profiles``: lesson 14's ``dev`` and ``prod`` profiles, run side by side.
"""
