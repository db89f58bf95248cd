"""Helpers the lesson notebooks call, so a lesson shows the call and not the plumbing.

Each module belongs to the lessons that use it and is documented and tested like the
engine: ``negatives`` builds lesson 05's easy and hard negative pairs.
"""
